/**
 * Start and stop. `start()` checks auth, runs module setup, listens (refusing a non-loopback bind
 * without auth), writes the own presence row and starts the `tick`; `stop()` refuses new calls, drains
 * those in flight, sends `shutdown` and closes every socket with 1012, stops listening, then runs the
 * modules' stop hooks last-first.
 *
 * @module
 */
import { bindHostFor, isLoopbackAddress } from "../auth/locality.ts";
import { authConfigProblem } from "../auth/shared-secret.ts";
import type { GatewayTlsConfig } from "../config/sections/gateway.ts";
import { GatewayError } from "../errors.ts";
import { CloseCode, DEFAULT_PORT } from "../protocol/constants.ts";
import type { ListeningServer, TlsFiles, Transport } from "../transports/types.ts";
import type { BusEvent } from "../types.ts";
import type { GatewayServerHandler } from "../ws/wire.ts";
import { type GatewayCore, listeningAddress } from "./core.ts";
import type { Dispatcher } from "./dispatch.ts";
import type { EventLoopMonitor } from "./event-loop.ts";
import type { BusSubscription } from "./fan-out.ts";
import type { PresenceRows } from "./presence.ts";
import type { Gateway, GatewayOptions, StopOptions } from "./types.ts";

/** How long `stop()` waits for in-flight calls by default. */
const DRAIN_TIMEOUT_MS = 10_000;

/** The gateway parts start and stop drive. */
export interface LifecycleParts {
  /** What the transport drives. */
  handler: GatewayServerHandler;
  /** Module setup (runs once). */
  setup(): Promise<void>;
  /** Holds the gateway's own row while it runs. */
  presenceRows: PresenceRows;
  /** Waits for calls in flight at stop. */
  drain: Dispatcher["drain"];
  /** How often `tick` is sent. */
  tickIntervalMs: number;
  /** Samples the event loop while the gateway runs. */
  eventLoop: EventLoopMonitor;
  /** Sends an event to this process's sockets without the bus (`tick` never crosses a shared bus). */
  deliver(event: BusEvent): void;
  /** The fan-out's hold on the bus (taken by `setup`), given back when the gateway stops. */
  fanOutSubscription: BusSubscription;
}

/** Creates `start` and `stop`; `options` says how and where to listen and how long to drain. */
export function createLifecycle(
  core: GatewayCore,
  { handler, setup, presenceRows, drain, tickIntervalMs, deliver, eventLoop, fanOutSubscription }:
    LifecycleParts,
  options: Pick<GatewayOptions, "transport" | "hostname" | "port" | "limits" | "timing">,
): Pick<Gateway, "start" | "stop"> {
  const { state, now, logger, connections, extensions: { stopHooks } } = core;
  const address = () => listeningAddress(state);
  let tickTimer: ReturnType<typeof setInterval> | undefined;
  /** The start in progress: `stop()` waits for it rather than racing its awaits. */
  let starting: Promise<unknown> | undefined;
  const start = async () => {
    try {
      checkAuth(core);
      await setup();
      if (options.transport) state.server = await listen(core, handler, options.transport, options);
      state.startedAt = now();
      await presenceRows.addSelf();
      tickTimer = setInterval(
        // Every replica ticks its own sockets. A failed send is logged as the bus logs a failing
        // listener, never thrown out of the timer.
        () => {
          try {
            deliver({ event: "tick", payload: { ts: now() }, dropIfSlow: true });
          } catch (error) {
            logger.error("event listener failed", { error: String(error) });
          }
        },
        tickIntervalMs,
      );
      eventLoop.start();
      state.phase = "running";
      logger.info("gateway listening", {
        ...address(),
        transport: options.transport?.name ?? "in-memory",
        auth: state.auth.mode,
      });
      return address();
    } catch (error) {
      // A start that failed after listening (a store that is down) must not leave the port served.
      await state.server?.close().catch(() => {});
      state.server = undefined;
      fanOutSubscription.unsubscribe();
      state.phase = "stopped";
      throw error;
    }
  };
  /** Runs the modules' stop hooks (once) and gives back the fan-out's bus subscription. */
  const releaseModules = async () => {
    for (const hook of stopHooks.splice(0).reverse()) {
      try {
        await hook();
      } catch (error) {
        logger.error("stop hook failed", { error: String(error) });
      }
    }
    fanOutSubscription.unsubscribe();
  };
  return {
    async start() {
      if (state.phase === "running") return address();
      if (state.phase !== "idle" && state.phase !== "stopped") {
        throw new GatewayError("UNAVAILABLE", `gateway is ${state.phase}`);
      }
      state.phase = "starting";
      const attempt = start();
      starting = attempt;
      try {
        return await attempt;
      } finally {
        starting = undefined;
      }
    },

    async stop(stopOptions: StopOptions = {}) {
      await starting?.catch(() => {});
      // Never started, or a start that failed: nothing serves, but module setup (run by `call()` or by
      // the failed start) may hold listeners on a bus the embedder shares.
      if (state.phase === "stopped" || state.phase === "idle") return await releaseModules();
      if (state.phase === "stopping") return;
      state.phase = "stopping";
      clearInterval(tickTimer);
      eventLoop.stop();
      // New calls are refused from here on; calls already running get a bounded time to finish.
      await drain(options.timing?.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
      const payload: Record<string, unknown> = { reason: stopOptions.reason ?? "gateway stopping" };
      if (stopOptions.restartExpectedMs !== undefined) {
        payload.restartExpectedMs = stopOptions.restartExpectedMs;
      }
      for (const connection of [...connections]) {
        connection.sendEvent("shutdown", payload);
        // Closing ourselves with 1012 before the server stops: an aborted server would put 1005 on the wire.
        connection.close(CloseCode.serviceRestart, "service restart");
      }
      await state.server?.close();
      state.server = undefined;
      await releaseModules();
      // A shared store that is down must not keep the gateway from stopping; its own row lapses there.
      await presenceRows.removeSelf().catch((error) =>
        logger.warn("own presence row not removed", { error: String(error) })
      );
      state.phase = "stopped";
      logger.info("gateway stopped", { reason: payload.reason });
    },
  };
}

/** The PEM paths to serve HTTPS/WSS with, or undefined when `gateway.tls` is off. */
function tlsFiles(tls: GatewayTlsConfig | undefined): TlsFiles | undefined {
  if (!tls?.enabled) return undefined;
  if (!tls.certPath || !tls.keyPath) {
    throw new GatewayError(
      "CONFIG_INVALID",
      "gateway.tls.enabled is true but gateway.tls.certPath and gateway.tls.keyPath are not both set; " +
        "point them at a PEM certificate and key, or set gateway.tls.enabled to false",
    );
  }
  return { certPath: tls.certPath, keyPath: tls.keyPath };
}

/** Refuses to start without the credentials the auth mode needs; warns when trusted-proxy lacks its setup. */
function checkAuth({ state, logger }: Pick<GatewayCore, "state" | "logger">): void {
  const problem = authConfigProblem(state.auth);
  if (problem) throw new GatewayError("AUTH_NOT_CONFIGURED", problem);
  if (
    state.auth.mode === "trusted-proxy" &&
    (!state.auth.trustedProxy || !state.config.gateway?.trustedProxies?.length)
  ) {
    logger.warn(
      "trusted-proxy auth refuses every request until gateway.auth.trustedProxy and gateway.trustedProxies are set",
    );
  }
}

/** Listens on `transport`; a non-loopback bind without auth is refused before anything listens. */
async function listen(
  { state, logger }: Pick<GatewayCore, "state" | "logger">,
  handler: GatewayServerHandler,
  transport: Transport,
  options: Pick<GatewayOptions, "hostname" | "port" | "limits">,
): Promise<ListeningServer> {
  const hostname = options.hostname ??
    bindHostFor(state.config.gateway?.bind, state.config.gateway?.customBindHost);
  const port = options.port ?? state.config.gateway?.port ?? DEFAULT_PORT;
  if (!isLoopbackAddress(hostname) && state.auth.mode === "none") {
    throw new GatewayError(
      "BIND_WITHOUT_AUTH",
      `refusing to bind gateway to ${hostname}:${port} without auth; set gateway.auth.mode to token or password, or bind to loopback`,
    );
  }
  return await transport.listen(handler, {
    tls: tlsFiles(state.config.gateway?.tls),
    hostname,
    port,
    headerTimeoutMs: options.limits?.headerTimeoutMs ?? state.config.gateway?.limits?.headerTimeoutMs,
    logger: logger.child("transport"),
  });
}
