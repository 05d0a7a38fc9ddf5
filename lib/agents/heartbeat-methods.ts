/**
 * Wires the heartbeat into a gateway: the runner as the cluster's `heartbeat` singleton (rescheduled on
 * config reload), the `heartbeat` event, `last-heartbeat`, `set-heartbeats`, `health.heartbeatSeconds`
 * and the `status.heartbeat` block.
 *
 * @module
 */
import * as z from "zod";
import { defineMethod } from "../methods/descriptor.ts";
import type { GatewayContext } from "../types.ts";
import { heartbeatPlans, heartbeatSeconds } from "./heartbeat-config.ts";
import { HeartbeatEventSchema, HeartbeatState } from "./heartbeat-events.ts";
import { heartbeatRoute } from "./heartbeat-route.ts";
import { HeartbeatRunner } from "./heartbeat.ts";
import type { AgentRuntime } from "./runtime.ts";
import { CHANNEL_DELIVERY, type ChannelDelivery } from "./service.ts";

/** Installs the heartbeat of `runtime`'s agents on the gateway `context` belongs to. */
export function installHeartbeats(context: GatewayContext, runtime: AgentRuntime): void {
  const state = new HeartbeatState(context.bus, () => context.now());
  let delivery: ChannelDelivery | undefined;
  context.whenProvided(CHANNEL_DELIVERY, (provided) => delivery = provided);
  const runner = new HeartbeatRunner({
    runtime,
    config: () => context.config(),
    now: () => context.now(),
    logger: context.logger.child("heartbeat"),
    state,
    delivery: () => delivery,
    systemEvents: context.stores.systemEvents,
  });
  context.declareEvents(["heartbeat"]);
  context.registerMethod(defineMethod({
    name: "last-heartbeat",
    scope: "operator.read",
    params: z.looseObject({}),
    result: HeartbeatEventSchema.nullable(),
    handler: () => state.last,
  }));
  context.registerMethod(defineMethod({
    name: "set-heartbeats",
    scope: "operator.admin",
    params: z.looseObject({ enabled: z.boolean() }),
    handler: ({ params }) => {
      state.setEnabled(params.enabled);
      return { ok: true, enabled: params.enabled };
    },
  }));
  context.addHealthSection(() => ({
    heartbeatSeconds: heartbeatSeconds(context.config(), runtime.agents()),
  }));
  context.addStatusSection(() => {
    const catalog = runtime.agents();
    const plans = heartbeatPlans(context.config(), catalog);
    return {
      heartbeat: {
        defaultAgentId: catalog.defaultAgentId,
        agents: catalog.agents.map(({ id }) => {
          const plan = plans.find((p) => p.agentId === id);
          const row = {
            agentId: id,
            enabled: !!plan,
            every: plan?.every ?? "disabled",
            everyMs: plan?.everyMs ?? null,
          };
          const waiting = plan && heartbeatRoute(plan, context.config(), delivery) === undefined;
          return waiting ? { ...row, waitingForRoute: true } : row;
        }),
      },
    };
  });
  context.onConfigChange(() => runner.reschedule());
  context.runSingleton("heartbeat", (signal) => runner.run(signal));
  context.onStop(() => state.close());
}
