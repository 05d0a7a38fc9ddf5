/**
 * The agents feature as a gateway module: builds the runtime at setup and registers the WS methods.
 *
 * @module
 */
import { LOCAL_PROVIDER_ID } from "../providers/local.ts";
import type { FetchLike, ModelProvider } from "../providers/types.ts";
import { CLUSTER_PEERS, type PeerRegistry } from "../state/peers.ts";
import type { GatewayContext, GatewayModule } from "../types.ts";
import {
  agentsHealth,
  byRecency,
  sessionDefaults,
  type SessionsByRecency,
  statusSessions,
} from "./health.ts";
import { installHeartbeats } from "./heartbeat-methods.ts";
import { bridgeRunEvents } from "./run-events.ts";
import { resumeOrphanedTurns } from "./orphan-turns.ts";
import { runMethods } from "./run-methods.ts";
import { AgentRuntime } from "./runtime.ts";
import { AGENT_RUNTIME } from "./service.ts";
import { SessionSubscribers, sessionSubscriptionMethods } from "./session-events.ts";
import { onDemandAgentMethods } from "./on-demand-methods.ts";
import { sessionMethods } from "./session-methods.ts";

/**
 * Options for {@link agentsModule}. Sessions, transcripts and runs live in the gateway's stores bundle
 * (`createGateway({ stores: jsonlStores(stateDir) })` for durable ones).
 */
export interface AgentsModuleOptions {
  /** The `fetch` providers use; defaults to the runtime's global `fetch`. */
  fetch?: FetchLike;
  /** Providers supplied in code; they win over `models.providers` entries with the same id. */
  providers?: Record<string, ModelProvider>;
  /** Run and session id generator (tests make ids predictable with it). */
  newId?: () => string;
  /**
   * Overrides which replicas count as alive: one replica runs the waiting turns (acknowledged, not yet
   * started) of replicas missing from it and ends their running runs. By default `stores.peers` once
   * `clusterModule` keeps it; without that module no replica is ever taken for dead.
   */
  peers?: PeerRegistry;
}

/**
 * The agents module; `runtime()` is available once the gateway has set it up. Other modules reach the
 * runtime through the context (`context.whenProvided(AGENT_RUNTIME, ...)`), whatever the module order.
 */
export interface AgentsModule extends GatewayModule {
  /** The runtime; throws before the gateway has set the module up. */
  runtime(): AgentRuntime;
}

/**
 * Agents, sessions and model providers: `agent`, `agent.wait`, `chat.*`, `sessions.*` (subscriptions
 * included), `models.list`.
 *
 * @example Run a turn with `chat.send`, wait for it, and read the session's history
 * ```ts
 * import { agentsModule, createGateway } from "@openclaw-ts/gateway";
 *
 * // No model is configured, so the default agent answers with the built-in local model (no network).
 * const gateway = createGateway({
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [agentsModule()],
 * });
 * await gateway.start();
 *
 * const sent = await gateway.call("chat.send", {
 *   sessionKey: "main",
 *   message: "hello",
 *   idempotencyKey: "hello-1",
 * }) as { runId: string };
 * const waited = await gateway.call("agent.wait", { runId: sent.runId, timeoutMs: 5_000 }) as { status: string };
 * if (waited.status !== "ok") throw new Error(JSON.stringify(waited));
 * const history = await gateway.call("chat.history", { sessionKey: "main" }) as { messages: unknown[] };
 * if (history.messages.length !== 2) throw new Error(JSON.stringify(history)); // the input and the reply
 * await gateway.stop();
 * ```
 */
export function agentsModule(options: AgentsModuleOptions = {}): AgentsModule {
  let runtime: AgentRuntime | undefined;
  /** Who is alive: the override, else the registry the cluster module provides (none: nobody is dead). */
  let peers = options.peers;
  return {
    name: "agents",
    setup(context) {
      runtime = new AgentRuntime({
        config: () => context.config(),
        env: context.env,
        now: () => context.now(),
        logger: context.logger.child("agents"),
        stores: context.stores,
        fetch: options.fetch ?? ((input, init) => fetch(input, init)),
        providers: options.providers,
        newId: options.newId,
        replicaId: context.replicaId,
        // Read when a run is aborted: the cluster module may provide the registry after this setup.
        get peers() {
          return peers;
        },
      });
      const subscribers = new SessionSubscribers(context.topics);
      const unbridge = bridgeRunEvents(runtime, context.bus, () => context.now());
      context.declareEvents([
        "agent",
        "chat",
        "sessions.changed",
        "session.message",
        "session.tool",
        "session.operation",
      ]);
      const sessions = sessionMethods(context, runtime);
      const onDemand = onDemandAgentMethods(
        context,
        runtime,
        sessions.find((m) => m.name === "chat.history")!,
      );
      const methods = [
        ...runMethods(context, runtime),
        ...sessions,
        ...onDemand.lifecycle,
        ...onDemand.compaction,
        ...sessionSubscriptionMethods(runtime, subscribers),
        ...onDemand.ui,
      ];
      for (const method of methods) context.registerMethod(method);
      installHeartbeats(context, runtime);
      if (peers) resumeOrphanedTurns(context, runtime, peers);
      else {
        context.whenProvided(CLUSTER_PEERS, (provided) => {
          peers = provided;
          resumeOrphanedTurns(context, runtime!, provided);
        });
      }
      context.provide(AGENT_RUNTIME, runtime);
      // Which model each agent runs on, and whether it is the built-in scripted one rather than a real
      // model: an operator looking at `status` must not mistake canned replies for a configured model.
      const recentSessionList = recentSessions(runtime, context);
      context.addStatusSection(async () => {
        const catalog = runtime!.agents();
        return {
          defaultAgentId: catalog.defaultAgentId,
          agents: catalog.agents.map((agent) => ({
            id: agent.id,
            model: agent.model,
            builtInLocalModel: agent.model.startsWith(`${LOCAL_PROVIDER_ID}/`),
          })),
          sessions: statusSessions(catalog, await recentSessionList.read(), context.now()),
        };
      });
      context.addHealthSection(async () =>
        agentsHealth(context.config(), runtime!.agents(), await recentSessionList.read(), context.now())
      );
      context.addHelloSnapshotSection(() => ({ sessionDefaults: sessionDefaults(runtime!.agents()) }));
      const running = runtime;
      context.onStop(() => {
        unbridge();
        recentSessionList.close();
        running.close();
      });
    },
    runtime() {
      if (!runtime) {
        throw new Error("agentsModule is not set up yet; modules reach its runtime through AGENT_RUNTIME");
      }
      return runtime;
    },
  };
}

/**
 * How long `health` and `status` may summarise a session list they read, when no `sessions.changed` said
 * it changed.
 */
const HEALTH_SESSIONS_MAX_AGE_MS = 1_000;

/**
 * The session list `health` and `status` summarise. Every `health` call and every `hello-ok` carries it, so
 * reading the whole list each time (over Redis, a round trip per call) would cost more than the rest of
 * them: it is read again after a `sessions.changed` (from any replica) or once it is a second old (in
 * the background from half a second on).
 */
function recentSessions(runtime: AgentRuntime, context: GatewayContext) {
  let read: { at: number; sessions: Promise<SessionsByRecency> } | undefined;
  /** A read past half its age is replaced in the background, so steady callers never wait for one. */
  let refreshing = false;
  let changes = 0;
  const release = context.bus.subscribe((event) => {
    if (event.event === "sessions.changed") [read, changes] = [undefined, changes + 1];
  });
  // Sorted once per read, not on every health or status call that reuses it.
  const list = () => runtime.listSessions().then(byRecency);
  const refresh = (at: number) => {
    const since = changes;
    refreshing = true;
    const sessions = list();
    sessions.then(() => since === changes && (read = { at, sessions }), () => {})
      .finally(() => refreshing = false);
  };
  return {
    read(): Promise<SessionsByRecency> {
      const now = context.now();
      if (!read || now - read.at > HEALTH_SESSIONS_MAX_AGE_MS) {
        const sessions = list();
        read = { at: now, sessions };
        // A failed read is not kept: the next call asks the store again.
        sessions.catch(() => read?.sessions === sessions && (read = undefined));
      } else if (now - read.at > HEALTH_SESSIONS_MAX_AGE_MS / 2 && !refreshing) refresh(now);
      return read.sessions;
    },
    close: release,
  };
}
