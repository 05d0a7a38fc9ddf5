/**
 * `createGateway()`: the runtime-agnostic gateway. It owns methods, routes, connections, auth and state;
 * transports put it on the network and modules extend it.
 *
 * @module
 */
import { bindHostFor, isLoopbackAddress } from "./auth/locality.ts";
import { authConfigProblem } from "./auth/shared-secret.ts";
import type { GatewayTlsConfig } from "./config/sections/gateway.ts";
import { GatewayError } from "./errors.ts";
import { createCore, listeningAddress } from "./gateway/core.ts";
import { createDispatcher, INTERNAL_CALLER } from "./gateway/dispatch.ts";
import { createPresenceRows } from "./gateway/presence.ts";
import { addProbeRoutes, createHealth } from "./gateway/probes.ts";
import { fanOut } from "./gateway/fan-out.ts";
import { createAuthentication } from "./gateway/authentication.ts";
import { createAdmission } from "./gateway/admission.ts";
import { createAccessLog } from "./gateway/access-log.ts";
import { createConnectionHost } from "./gateway/connection-host.ts";
import { createContext } from "./gateway/context.ts";
import { moduleSetup } from "./gateway/modules.ts";
import { createServe } from "./gateway/http.ts";
import { applyConfigUpdate } from "./gateway/config-update.ts";
import { CloseCode, DEFAULT_PORT, TICK_INTERVAL_MS } from "./protocol/constants.ts";
import type { TlsFiles } from "./transports/types.ts";
import type { GatewayServerHandler } from "./ws/wire.ts";
import type { Gateway, GatewayOptions, StopOptions } from "./gateway/types.ts";

export type { ConfigUpdateResult, Gateway, GatewayOptions, StopOptions } from "./gateway/types.ts";

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

/** Creates a gateway. Nothing listens until `start()`. */
export function createGateway(options: GatewayOptions = {}): Gateway {
  const core = createCore(options);
  const { state, now, logger, secrets, bus, connections, stateVersion } = core;
  const { stopHooks } = core.extensions;
  const accessLog = createAccessLog(core);
  const tickIntervalMs = options.timing?.tickIntervalMs ?? TICK_INTERVAL_MS;
  let tickTimer: ReturnType<typeof setInterval> | undefined;

  const { authenticator, attribute, clientAddress } = createAuthentication(core, options);

  const health = createHealth(core);

  const address = () => listeningAddress(state);

  const admission = createAdmission(core, { attribute, clientAddress }, options);
  const presenceRows = createPresenceRows(core, options);
  const { dispatch, drain } = createDispatcher(core);

  const host = createConnectionHost(core, {
    authenticator,
    admission,
    presenceRows,
    dispatch,
    health,
    accessLog,
    tickIntervalMs,
  }, options);

  bus.subscribe(fanOut(connections, stateVersion));

  const context = createContext(core, { authenticator, clientAddress, dispatch, accessLog }, options);

  addProbeRoutes(core, context.prepareJsonResponse);

  const modules = moduleSetup(core, context, { health, presenceRows }, options);
  const setup = modules.setup;

  const serve = createServe(core, { accessLog, modules });

  const handler: GatewayServerHandler = {
    fetch: (request, info) => serve(request, info),
    admitUpgrade: admission.admitUpgrade,
    acceptSocket: (wire, info) => admission.acceptSocket(host, wire, info),
  };

  const gateway: Gateway = {
    handler,
    bus,
    logger,
    secrets,
    registerMethod: context.registerMethod,
    registerRoute: context.registerRoute,
    config: () => state.config,

    async start() {
      if (state.phase === "running") return address();
      if (state.phase !== "idle" && state.phase !== "stopped") {
        throw new GatewayError("UNAVAILABLE", `gateway is ${state.phase}`);
      }
      state.phase = "starting";
      try {
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
        await setup();
        if (options.transport) {
          const hostname = options.hostname ??
            bindHostFor(state.config.gateway?.bind, state.config.gateway?.customBindHost);
          const port = options.port ?? state.config.gateway?.port ?? DEFAULT_PORT;
          if (!isLoopbackAddress(hostname) && state.auth.mode === "none") {
            throw new GatewayError(
              "BIND_WITHOUT_AUTH",
              `refusing to bind gateway to ${hostname}:${port} without auth; set gateway.auth.mode to token or password, or bind to loopback`,
            );
          }
          state.server = await options.transport.listen(handler, {
            tls: tlsFiles(state.config.gateway?.tls),
            hostname,
            port,
            headerTimeoutMs: options.limits?.headerTimeoutMs ?? state.config.gateway?.limits?.headerTimeoutMs,
            logger: logger.child("transport"),
          });
        }
        state.startedAt = now();
        presenceRows.addSelf();
        tickTimer = setInterval(
          () => bus.publish({ event: "tick", payload: { ts: now() }, dropIfSlow: true }),
          tickIntervalMs,
        );
        state.phase = "running";
        logger.info("gateway listening", {
          ...address(),
          transport: options.transport?.name ?? "in-memory",
          auth: state.auth.mode,
        });
        return address();
      } catch (error) {
        state.phase = "stopped";
        throw error;
      }
    },

    async stop(stopOptions: StopOptions = {}) {
      if (state.phase === "stopped" || state.phase === "idle" || state.phase === "stopping") return;
      state.phase = "stopping";
      clearInterval(tickTimer);
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
      for (const hook of stopHooks.splice(0).reverse()) {
        try {
          await hook();
        } catch (error) {
          logger.error("stop hook failed", { error: String(error) });
        }
      }
      presenceRows.removeSelf();
      state.phase = "stopped";
      logger.info("gateway stopped", { reason: payload.reason });
    },

    fetch: (request, info = { remoteAddress: "127.0.0.1" }) => Promise.resolve(serve(request, info)),

    updateConfig: (next, source = {}) => applyConfigUpdate(core, next, source),

    async call(method, params = {}, caller = INTERNAL_CALLER) {
      await setup();
      return context.callMethod(method, params, caller);
    },

    state: {
      presence: () => presenceRows.list(),
      health,
      uptimeMs: () => Math.round(now() - state.startedAt),
      stateVersion: () => ({ ...stateVersion }),
      connections: () => connections.size,
      address,
    },
  };
  return gateway;
}

/** How long `stop()` waits for in-flight calls by default. */
const DRAIN_TIMEOUT_MS = 10_000;
