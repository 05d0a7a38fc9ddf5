/**
 * The {@link GatewayContext} modules get at setup: shared services (logger, bus, config, secrets) and
 * the ways to extend the gateway (methods, routes, events, health/status/readiness sections, stop
 * hooks, observers, socket guards), each recorded in the core.
 *
 * @module
 */
import { preparedJsonResponse } from "../http/response.ts";
import { runSingleton } from "../state/singleton.ts";
import type { GatewayContext, HttpAuthResult } from "../types.ts";
import type { AccessLog } from "./access-log.ts";
import type { Authentication } from "./authentication.ts";
import { type GatewayCore, listeningAddress } from "./core.ts";
import type { Dispatcher } from "./dispatch.ts";
import type { GatewayOptions } from "./types.ts";

/** The gateway parts the context hands out. */
export interface ContextParts {
  /** Behind `authenticateHttp`. */
  authenticator: Authentication["authenticator"];
  /** Behind `clientAddress`. */
  clientAddress: Authentication["clientAddress"];
  /** Behind `callMethod`. */
  dispatch: Dispatcher["dispatch"];
  /** Records each HTTP request's auth outcome. */
  accessLog: AccessLog;
  /** Behind `loopDelay`: the gateway's one event-loop sampler. */
  loopDelay: GatewayContext["loopDelay"];
}

/** Creates the module context; `options.transport` says whether cloning a prepared response is cheap. */
export function createContext(
  core: GatewayCore,
  { authenticator, clientAddress, dispatch, accessLog, loopDelay }: ContextParts,
  options: Pick<GatewayOptions, "transport">,
): GatewayContext {
  const {
    state,
    now,
    newId,
    env,
    logger,
    secrets,
    stores,
    topics,
    registry,
    router,
    services,
    events,
    noteVersions,
    selfId,
  } = core;
  const {
    healthSections,
    snapshotSections,
    statusSections,
    readinessChecks,
    configListeners,
    stopHooks,
    socketGuards,
    clientListeners,
  } = core.extensions;
  const { observers, notify, observed } = core.observers;
  // `ok:<method>` strings, made once per auth method (a handful) rather than once per request.
  const okOutcomes = new Map<string, string>();
  const okOutcome = (method: string) => {
    let outcome = okOutcomes.get(method);
    if (outcome === undefined) okOutcomes.set(method, outcome = `ok:${method}`);
    return outcome;
  };
  /** Counts a refusal and notes the outcome for the access log; no closure per request. */
  const recordHttpAuth = (request: Request, result: HttpAuthResult) => {
    if (!result.ok) notify((o) => o.authFailure?.("http", String(result.response.status)));
    accessLog.noteAuth(request, result.ok ? okOutcome(result.caller.authMethod) : "refused");
    return result;
  };
  return {
    logger,
    bus: stores.bus,
    stores,
    topics,
    env,
    secrets,
    now,
    loopDelay,
    config: () => state.config,
    onConfigChange(listener) {
      configListeners.add(listener);
      return () => configListeners.delete(listener);
    },
    registerMethod: (method) => registry.register(method),
    registerRoute: (route) => router.add(route),
    callMethod: (method, params, caller, signal) =>
      observed(
        method,
        () =>
          dispatch(caller, `internal:${newId()}`, method, params, signal ?? new AbortController().signal, {
            ack: () => {},
            sendEvent: () => {},
          }),
      ),
    prepareJsonResponse: (text, status, headers) =>
      preparedJsonResponse(text, options.transport?.cloneIsCheap === true, status, headers),
    authenticateHttp(request, info, options) {
      const result = authenticator.authenticateHttp(request, info, options);
      return result instanceof Promise
        ? result.then((settled) => recordHttpAuth(request, settled))
        : recordHttpAuth(request, result);
    },
    clientAddress: (request, info) => clientAddress(info.remoteAddress, request.headers),
    onStop: (hook) => void stopHooks.push(hook),
    declareEvents: (names) => names.forEach((n) => events.add(n)),
    addHealthSection: (provider) => void healthSections.push(provider),
    addHelloSnapshotSection: (provider) => void snapshotSections.push(provider),
    addStatusSection: (provider) => void statusSections.push(provider),
    addReadinessCheck: (name, check) => void readinessChecks.set(name, check),
    async bumpStateVersion(key) {
      if (key !== "presence" && key !== "health") throw new Error(`unknown state version ${key}`);
      return noteVersions(await stores.stateVersions.bump(key))[key];
    },
    observe(observer) {
      observers.add(observer);
      return () => observers.delete(observer);
    },
    guardSockets: (guard) => void socketGuards.push(guard),
    onClient(listener) {
      clientListeners.add(listener);
      return () => clientListeners.delete(listener);
    },
    runSingleton(name, run, options = {}) {
      if (options.signal?.aborted) return;
      const onError = (error: unknown) => logger.warn("singleton", { name, error: String(error) });
      const ttlMs = state.config.gateway?.cluster?.leaseTtlMs;
      const singleton = runSingleton({ store: stores.leases, name, owner: selfId, run, onError, ttlMs });
      const stop = () => singleton.stop();
      stopHooks.push(stop);
      // A job stopped before the gateway (a channel restarted by a reload) leaves no hook behind.
      options.signal?.addEventListener("abort", () => {
        const index = stopHooks.indexOf(stop);
        if (index !== -1) stopHooks.splice(index, 1);
        void stop();
      }, { once: true });
    },
    replicaId: selfId,
    listeningAddress: () => listeningAddress(state),
    provide: (key, service) => services.provide(key, service),
    service: (key) => services.get(key),
    whenProvided: (key, use) => services.whenProvided(key, use),
  };
}
