/**
 * The key under which the agents module provides its runtime on the gateway context. Kept apart from
 * the module so a consumer (metrics, tools, an embedder's module) can name it without loading agents.
 *
 * @example
 * ```ts
 * import type { GatewayModule } from "../types.ts";
 * import { AGENT_RUNTIME } from "./service.ts";
 *
 * // Counts runs wherever the agents module is listed.
 * const runCounter: GatewayModule = {
 *   name: "run-counter",
 *   setup(context) {
 *     let runs = 0;
 *     context.whenProvided(AGENT_RUNTIME, (runtime) => {
 *       runtime.onRunEvent((_run, event) => event.type === "start" && runs++);
 *     });
 *   },
 * };
 * ```
 *
 * @module
 */
import { type ServiceKey, serviceKey } from "../services.ts";
import type { AgentRuntime } from "./runtime.ts";

/** The agents runtime (sessions, runs, models), provided by `agentsModule` at setup. */
export const AGENT_RUNTIME: ServiceKey<AgentRuntime> = serviceKey("agents.runtime");

/** Sends text to a recipient of a running channel: how heartbeat alerts reach their owner. */
export interface ChannelDelivery {
  /** Whether the channel is configured, enabled and can send. */
  has(channelId: string): boolean;
  /** Sends `text` to `to` on the channel; rejects when the channel refuses it. */
  send(channelId: string, to: string, text: string): Promise<void>;
}

/** The channel sender, provided by the channels module when it is installed. */
export const CHANNEL_DELIVERY: ServiceKey<ChannelDelivery> = serviceKey("channels.delivery");
