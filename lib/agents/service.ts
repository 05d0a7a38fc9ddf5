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
