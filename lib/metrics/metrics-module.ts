/**
 * The metrics module: Prometheus exposition at `GET /api/diagnostics/prometheus` behind gateway HTTP
 * auth (the reference has no anonymous mode), fed by core traffic observation, agent runs, and what
 * hooks and channels report through {@link MetricsRecorder}.
 *
 * @module
 */
import * as z from "zod";
import type { AgentsModule } from "../agents/agents-module.ts";
import type { AgentRuntime } from "../agents/runtime.ts";
import { AGENT_RUNTIME } from "../agents/service.ts";
import { anyParams, defineMethod } from "../methods/descriptor.ts";
import type { GatewayContext, GatewayModule } from "../types.ts";
import type { MetricsRecorder } from "./recorder.ts";
import { MetricsRegistry } from "./registry.ts";

/** Where the exposition is served, as in the reference's `diagnostics-prometheus` plugin. */
export const PROMETHEUS_PATH = "/api/diagnostics/prometheus";

/** Prometheus text exposition content type. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Process memory, injected by the runner (`process.memoryUsage()` or `Deno.memoryUsage()`). */
export interface MemoryUsage {
  /** Resident set size of the process, in bytes. */
  rss: number;
  /** JavaScript heap in use, in bytes. */
  heapUsed: number;
  /** JavaScript heap reserved, in bytes. */
  heapTotal: number;
}

/** Options for {@link metricsModule}. */
export interface MetricsModuleOptions {
  /**
   * No longer needed: runs, durations, model calls and tokens are counted whenever an agents module is
   * installed, listed before or after this one.
   * @deprecated Leave it out.
   */
  agents?: AgentsModule;
  /** Reads process memory at scrape time for the memory gauges; without it they are left out. */
  memoryUsage?: () => MemoryUsage;
  /** Replaces the registry (tests, or sharing one across modules). */
  registry?: MetricsRegistry;
}

/** The metrics module; pass `recorder` to hooks and channels. */
export interface MetricsModule extends GatewayModule {
  /** The registry behind `/metrics`; add your own counters, gauges and histograms to it. */
  readonly registry: MetricsRegistry;
  /** Counts RPCs, HTTP requests, channel messages and hook calls; pass it to hooks and channels. */
  readonly recorder: MetricsRecorder;
}

/**
 * Creates the metrics module: `GET /api/diagnostics/prometheus` and `metrics.snapshot`, with gauges of
 * uptime, event-loop delay and (given `memoryUsage`) memory.
 *
 * @example The exposition over a method call, with memory gauges
 * ```ts
 * import { createGateway, metricsModule } from "@openclaw-ts/gateway";
 *
 * const metrics = metricsModule({ memoryUsage: () => ({ rss: 64e6, heapUsed: 20e6, heapTotal: 32e6 }) });
 * const gateway = createGateway({ config: { gateway: { auth: { token: "s3cret" } } }, modules: [metrics] });
 * await gateway.start();
 *
 * const { text } = await gateway.call("metrics.snapshot", {}) as { text: string };
 * if (!text.includes("openclaw_memory_rss_bytes 64000000")) throw new Error(text);
 * await gateway.stop();
 * ```
 */
export function metricsModule(options: MetricsModuleOptions = {}): MetricsModule {
  const registry = options.registry ?? new MetricsRegistry();
  const webhooks = registry.counter("openclaw_webhook_received_total", "Hook requests received.", [
    "webhook",
  ]);
  const webhookErrors = registry.counter("openclaw_webhook_error_total", "Hook requests that failed.", [
    "webhook",
  ]);
  const webhookDuration = registry.histogram(
    "openclaw_webhook_duration_seconds",
    "Time to answer a hook request.",
    ["webhook"],
  );
  const messages = registry.counter("openclaw_message_received_total", "Channel messages received.", [
    "channel",
  ]);
  const deliveries = registry.counter("openclaw_message_delivery_total", "Channel replies sent.", [
    "channel",
    "outcome",
  ]);
  const deliveryDuration = registry.histogram(
    "openclaw_message_delivery_duration_seconds",
    "Time to send a channel reply.",
    ["channel"],
  );
  const recorder: MetricsRecorder = {
    webhook(hook, outcome, seconds) {
      webhooks.inc({ webhook: hook });
      if (outcome === "error") webhookErrors.inc({ webhook: hook });
      webhookDuration.observe({ webhook: hook }, seconds);
    },
    messageReceived: (channel) => messages.inc({ channel }),
    messageDelivered(channel, outcome, seconds) {
      deliveries.inc({ channel, outcome });
      deliveryDuration.observe({ channel }, seconds);
    },
  };

  return {
    name: "metrics",
    registry,
    recorder,
    setup(context: GatewayContext) {
      const startedAt = context.now();
      observeCore(context, registry);
      context.whenProvided(AGENT_RUNTIME, (runtime) => observeRuns(runtime, registry));
      registry.collectedGauge(
        "openclaw_gateway_uptime_seconds",
        "Seconds since the gateway module set up.",
        () => [
          { labels: {}, value: (context.now() - startedAt) / 1000 },
        ],
      );
      registry.collectedGauge(
        "openclaw_liveness_event_loop_delay_p99_seconds",
        "p99 event-loop delay over the last minute.",
        () => [{ labels: {}, value: context.loopDelay().p99Ms / 1000 }],
      );
      registry.collectedGauge(
        "openclaw_liveness_event_loop_delay_max_seconds",
        "Max event-loop delay over the last minute.",
        () => [{ labels: {}, value: context.loopDelay().maxMs / 1000 }],
      );
      const memory = options.memoryUsage;
      if (memory) {
        registry.collectedGauge("openclaw_memory_bytes", "Heap memory by kind.", () => {
          const usage = memory();
          return [
            { labels: { kind: "heap_used" }, value: usage.heapUsed },
            { labels: { kind: "heap_total" }, value: usage.heapTotal },
          ];
        });
        registry.collectedGauge("openclaw_memory_rss_bytes", "Resident set size.", () => [
          { labels: {}, value: memory().rss },
        ]);
      }
      context.registerRoute({
        path: PROMETHEUS_PATH,
        methods: ["GET", "HEAD"],
        auth: "gateway",
        handler(request) {
          const enabled = (context.config().diagnostics as { enabled?: unknown } | undefined)?.enabled;
          // As the reference: diagnostics switched off leaves an empty (but valid) exposition.
          const body = enabled === false ? "" : registry.render();
          return new Response(request.method === "HEAD" ? null : body, {
            headers: { "Content-Type": PROMETHEUS_CONTENT_TYPE, "Cache-Control": "no-store" },
          });
        },
      });
      context.registerMethod(defineMethod({
        name: "metrics.snapshot",
        scope: "operator.read",
        params: anyParams,
        result: z.object({ text: z.string() }),
        handler: () => ({ text: registry.render() }),
      }));
    },
  };
}

/**
 * Method labels kept as sent. Anyone who reaches the port picks the method, so any other method is
 * labelled `other`: invented ones must not fill the series cap and crowd out real series.
 */
const HTTP_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);

function observeCore(context: GatewayContext, registry: MetricsRegistry): void {
  const connections = registry.gauge("openclaw_gateway_connections", "Open WebSocket connections.");
  const connects = registry.counter("openclaw_gateway_connections_total", "WebSocket connections by stage.", [
    "stage",
  ]);
  const rpcs = registry.counter("openclaw_gateway_rpc_total", "Method calls by method and outcome.", [
    "method",
    "outcome",
    "code",
  ]);
  const rpcDuration = registry.histogram("openclaw_gateway_rpc_duration_seconds", "Method call latency.", [
    "method",
  ]);
  const http = registry.counter(
    "openclaw_gateway_http_requests_total",
    "HTTP requests by route and status.",
    [
      "route",
      "method",
      "status",
    ],
  );
  const httpDuration = registry.histogram(
    "openclaw_gateway_http_request_duration_seconds",
    "Time to the response head, by route.",
    ["route"],
  );
  const authFailures = registry.counter("openclaw_gateway_auth_failures_total", "Refused credentials.", [
    "transport",
    "reason",
  ]);
  const dropped = registry.counter(
    "openclaw_gateway_events_dropped_total",
    "Droppable events skipped for slow sockets.",
    ["event"],
  );
  // Sub-millisecond buckets: one event to a few sockets takes microseconds, to 10,000 a few milliseconds.
  const fanOut = registry.histogram(
    "openclaw_gateway_event_fanout_seconds",
    "Time to hand one event to every socket it reaches on this replica (frames queued, not yet written).",
    ["event"],
    [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  );
  const deliveries = registry.counter(
    "openclaw_gateway_event_deliveries_total",
    "Event frames handed to sockets, by event.",
    ["event"],
  );
  connections.set({}, 0);
  const unobserve = context.observe({
    connection(change) {
      if (change === "open") connections.add({}, 1);
      if (change === "close") connections.add({}, -1);
      else connects.inc({ stage: change === "open" ? "accepted" : "authenticated" });
    },
    request(method, outcome, code, ms) {
      rpcs.inc({ method, outcome, code: code ?? "" });
      rpcDuration.observe({ method }, ms / 1000);
    },
    http(route, method, status, ms) {
      http.inc({ route, method: HTTP_METHODS.has(method) ? method : "other", status: String(status) });
      httpDuration.observe({ route }, ms / 1000);
    },
    authFailure: (transport, reason) => authFailures.inc({ transport, reason }),
    eventDropped: (event) => dropped.inc({ event }),
    fanOut(event, sockets, ms) {
      fanOut.observe({ event }, ms / 1000);
      deliveries.inc({ event }, sockets);
    },
  });
  context.onStop(unobserve);
}

function observeRuns(runtime: AgentRuntime, registry: MetricsRegistry): void {
  const completed = registry.counter("openclaw_run_completed_total", "Agent runs finished, by outcome.", [
    "agent",
    "outcome",
  ]);
  const duration = registry.histogram("openclaw_run_duration_seconds", "Agent run duration.", ["agent"]);
  const active = registry.gauge("openclaw_gateway_runs_active", "Agent runs executing now.");
  const modelCalls = registry.counter("openclaw_model_call_total", "Model calls by model and outcome.", [
    "model",
    "outcome",
  ]);
  const modelDuration = registry.histogram("openclaw_model_call_duration_seconds", "Model call duration.", [
    "model",
  ]);
  const tokens = registry.counter("openclaw_model_tokens_total", "Model tokens by direction.", [
    "model",
    "type",
  ]);
  active.set({}, 0);
  runtime.onRunEvent((run, event) => {
    if (event.type === "start") active.add({}, 1);
    if (event.type !== "end") return;
    const { outcome } = event;
    const seconds = (outcome.endedAt - outcome.startedAt) / 1000;
    // Runs refused before they started never incremented the gauge.
    if (outcome.sessionId) active.add({}, -1);
    completed.inc({ agent: run.agentId, outcome: outcome.status });
    duration.observe({ agent: run.agentId }, seconds);
    if (!outcome.model) return;
    modelCalls.inc({ model: outcome.model, outcome: outcome.status });
    modelDuration.observe({ model: outcome.model }, seconds);
    const usage = outcome.result?.usage;
    if (usage) {
      tokens.inc({ model: outcome.model, type: "input" }, usage.inputTokens ?? 0);
      tokens.inc({ model: outcome.model, type: "output" }, usage.outputTokens ?? 0);
    }
  });
}
