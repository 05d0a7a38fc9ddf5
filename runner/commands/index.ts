/**
 * Every command the `openclaw` CLI dispatches.
 *
 * @module
 */
import type { RunnerCommand } from "../command.ts";
import { gatewayRunCommands, type GatewayRunHost } from "./gateway-run.ts";
import { opsCommands } from "./ops/index.ts";
import { setupCommand } from "./setup.ts";

/** The full command list, given the host seams some commands need. */
export function allCommands(host: GatewayRunHost): RunnerCommand[] {
  return [...gatewayRunCommands(host), setupCommand, ...opsCommands];
}
