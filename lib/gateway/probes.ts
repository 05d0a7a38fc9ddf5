/**
 * What probes and the `health` method read: the health snapshot (with the sections modules add), and
 * the liveness (`/health`), startup (`/startup`) and readiness (`/ready`) routes.
 *
 * @module
 */
import { isDirectLocal } from "../auth/locality.ts";
import { jsonResponse } from "../http/response.ts";
import type { GatewayContext, RequestInfo } from "../types.ts";
import type { Logger } from "../log/logger.ts";
import { GATEWAY_VERSION } from "../version.ts";
import type { GatewayCore } from "./core.ts";
import { type EventLoopMonitor, eventLoopSection } from "./event-loop.ts";

const noStore = { "Cache-Control": "no-store" };

/**
 * Every section's keys, read side by side (they may wait on shared stores). A section that fails (its
 * store is down) is left out and logged: a report that can say the rest must not fail with it.
 */
export async function readSections(
  sections: readonly (() => Record<string, unknown> | Promise<Record<string, unknown>>)[],
  logger: Pick<Logger, "warn">,
): Promise<Record<string, unknown>[]> {
  return await Promise.all(sections.map(async (section) => {
    try {
      return await section();
    } catch (error) {
      logger.warn("report section left out", { error: String(error) });
      return {};
    }
  }));
}

/** The health snapshot builder (`health` method, `hello-ok.snapshot.health`). */
export function createHealth(
  { state, now, logger, extensions: { healthSections } }: Pick<
    GatewayCore,
    "state" | "now" | "logger" | "extensions"
  >,
  eventLoop?: EventLoopMonitor,
): () => Promise<Record<string, unknown>> {
  return async () => {
    const started = now();
    const snapshot: Record<string, unknown> = {
      ok: true,
      ts: started,
      durationMs: 0,
      configReload: {
        hotReloadStatus: (state.config.gateway?.reload?.mode ?? "hybrid") === "off" ? "disabled" : "active",
      },
      // No plugin system here: nothing loaded, nothing failed (the reference's clients read these lists).
      plugins: { loaded: [], errors: [], unavailable: [] },
      channels: {},
      channelOrder: [],
      channelLabels: {},
    };
    for (const section of await readSections(healthSections, logger)) {
      Object.assign(snapshot, section);
    }
    Object.assign(snapshot, eventLoopSection(eventLoop));
    snapshot.durationMs = Math.max(0, Math.round(now() - started));
    return snapshot;
  };
}

/** Adds the liveness, startup and readiness routes (each under its `z` alias too). */
export function addProbeRoutes(
  { state, now, router, extensions: { readinessChecks } }: Pick<
    GatewayCore,
    "state" | "now" | "router" | "extensions"
  >,
  prepareJsonResponse: GatewayContext["prepareJsonResponse"],
): void {
  // Liveness probes poll these, and the answer never changes.
  const live = prepareJsonResponse(JSON.stringify({ ok: true, status: "live" }), 200, noStore);
  for (const path of ["/health", "/healthz"]) router.add({ path, methods: ["GET", "HEAD"], handler: live });
  const startup = () =>
    state.phase === "running" ? jsonResponse({ ok: true, status: "started" }, 200, noStore) : jsonResponse(
      { ok: false, status: state.phase === "stopping" ? "draining" : "starting" },
      503,
      noStore,
    );
  // Ready = started and every module's check passing. Details (what fails, uptime) only for callers on
  // this machine: a remote anonymous prober learns no more than yes or no.
  const readiness = (request: Request, info: RequestInfo) => {
    const failing = state.phase === "running"
      ? []
      : [`gateway:${state.phase === "stopping" ? "draining" : "starting"}`];
    for (const [name, check] of readinessChecks) {
      let reason: string | undefined;
      try {
        reason = check();
      } catch (error) {
        reason = String(error);
      }
      if (reason) failing.push(`${name}:${reason}`);
    }
    const ready = failing.length === 0;
    const body = isDirectLocal(info.remoteAddress, request.headers)
      ? {
        ready,
        failing,
        uptimeMs: Math.max(0, Math.round(now() - state.startedAt)),
        version: GATEWAY_VERSION,
      }
      : { ok: ready, status: ready ? "ready" : "not-ready" };
    return jsonResponse(body, ready ? 200 : 503, noStore);
  };
  for (const path of ["/startup", "/startupz"]) {
    router.add({ path, methods: ["GET", "HEAD"], handler: startup });
  }
  for (const path of ["/ready", "/readyz"]) {
    router.add({ path, methods: ["GET", "HEAD"], handler: readiness });
  }
}
