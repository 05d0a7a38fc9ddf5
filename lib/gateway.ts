/**
 * `createGateway()`: the runtime-agnostic gateway. It owns methods, routes, connections, auth and state;
 * transports put it on the network and modules extend it. This file wires the parts in `./gateway/`
 * (one job each; see docs/architecture.md) and is the entry point the rest of the code imports.
 *
 * @module
 */
import { createAccessLog } from "./gateway/access-log.ts";
import { createAdmission } from "./gateway/admission.ts";
import { createAuthentication } from "./gateway/authentication.ts";
import { applyConfigUpdate } from "./gateway/config-update.ts";
import { createConnectionHost } from "./gateway/connection-host.ts";
import { createContext } from "./gateway/context.ts";
import { createCore, listeningAddress } from "./gateway/core.ts";
import { createDispatcher, INTERNAL_CALLER } from "./gateway/dispatch.ts";
import { busSubscription, fanOut, type FanOutReport } from "./gateway/fan-out.ts";
import { createServe } from "./gateway/http.ts";
import { createEventLoopMonitor, eventLoopSection } from "./gateway/event-loop.ts";
import { createLifecycle } from "./gateway/lifecycle.ts";
import { moduleSetup } from "./gateway/modules.ts";
import { createPresenceRows } from "./gateway/presence.ts";
import { addProbeRoutes, createHealth } from "./gateway/probes.ts";
import type { Gateway, GatewayOptions } from "./gateway/types.ts";
import { TICK_INTERVAL_MS } from "./protocol/constants.ts";
import type { GatewayServerHandler } from "./ws/wire.ts";

export type { ConfigUpdateResult, Gateway, GatewayOptions, StopOptions } from "./gateway/types.ts";

/**
 * Creates a gateway. Nothing listens until `start()`; without a transport the gateway still answers
 * in-process calls (`call`) and HTTP requests handed to its `fetch`.
 *
 * @example Add a method and call it in-process, with no transport
 * ```ts
 * import { z } from "zod";
 * import { createGateway, defineMethod } from "@openclaw-ts/gateway";
 *
 * const gateway = createGateway({ config: { gateway: { auth: { token: "s3cret" } } } });
 * gateway.registerMethod(defineMethod({
 *   name: "app.echo",
 *   scope: "operator.read",
 *   params: z.strictObject({ text: z.string() }),
 *   handler: ({ params }) => ({ echoed: params.text }),
 * }));
 * await gateway.start();
 *
 * const answer = await gateway.call("app.echo", { text: "hi" });
 * if (JSON.stringify(answer) !== '{"echoed":"hi"}') throw new Error(JSON.stringify(answer));
 * const health = await gateway.fetch(new Request("http://gateway.invalid/health"));
 * if (health.status !== 200) throw new Error(`/health answered ${health.status}`);
 * await health.body?.cancel();
 * await gateway.stop();
 * ```
 */
export function createGateway(options: GatewayOptions = {}): Gateway {
  const core = createCore(options);
  const { state, now, logger, secrets, stores: { bus }, connections } = core;
  const accessLog = createAccessLog(core);
  const tickIntervalMs = options.timing?.tickIntervalMs ?? TICK_INTERVAL_MS;
  const { authenticator, attribute, clientAddress } = createAuthentication(core, options);
  const cpu = options.transport?.cpuUsageMicros?.bind(options.transport);
  // One sampler for the loop: `health.eventLoop` (which needs the transport's CPU clock) and the metrics.
  const eventLoop = createEventLoopMonitor(cpu);
  const health = createHealth(core, cpu ? eventLoop : undefined);
  // `status` reports the loop as `health` does (the reference sends it in both).
  if (cpu) core.extensions.statusSections.push(() => eventLoopSection(eventLoop));
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
  const { observers, notify } = core.observers;
  const reportFanOut: FanOutReport = (event, sockets, ms) => notify((o) => o.fanOut?.(event, sockets, ms));
  const deliver = fanOut(connections, core, core.topics, () => observers.size ? reportFanOut : undefined);
  // Subscribed before module setup (the first thing `start` and `call` run), so connections get each event
  // before module listeners do; given back at stop, so a bus the embedder shares keeps none of it.
  const fanOutSubscription = busSubscription(bus, deliver);
  const setup = () => {
    fanOutSubscription.subscribe();
    return modules.setup();
  };
  const context = createContext(
    core,
    { authenticator, clientAddress, dispatch, accessLog, loopDelay: eventLoop.recentDelay },
    options,
  );
  // Routes that declare `auth: "gateway"` are checked through the context, which counts refusals.
  core.httpAuth.check = context.authenticateHttp;
  // The probe routes go in before any module's routes.
  addProbeRoutes(core, context.prepareJsonResponse);
  const modules = moduleSetup(core, context, { health, presenceRows }, options);
  const serve = createServe(core, { accessLog, modules });
  const handler: GatewayServerHandler = {
    fetch: (request, info) => serve(request, info),
    admitUpgrade: admission.admitUpgrade,
    acceptSocket: (wire, info) => admission.acceptSocket(host, wire, info),
  };
  const { start, stop } = createLifecycle(
    core,
    { handler, setup, presenceRows, drain, tickIntervalMs, deliver, eventLoop, fanOutSubscription },
    options,
  );
  return {
    handler,
    bus,
    logger,
    secrets,
    registerMethod: context.registerMethod,
    registerRoute: context.registerRoute,
    config: () => state.config,
    start,
    stop,
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
      stateVersion: async () => ({ ...core.noteVersions(await core.stores.stateVersions.current()) }),
      connections: () => connections.size,
      address: () => listeningAddress(state),
    },
  };
}
