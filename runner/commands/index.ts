/**
 * Every command the `openclaw` CLI dispatches.
 *
 * @module
 */
import type { RunnerCommand } from "../command.ts";
import { configCommands } from "./config.ts";
import { gatewayRunCommands, type GatewayRunHost } from "./gateway-run.ts";
import { logsCommand } from "./logs.ts";
import { denoOpsHost } from "./ops/host.ts";
import { opsCommands } from "./ops/index.ts";
import { pairingCommands } from "./pairing.ts";
import { secretsReloadCommand } from "./secrets.ts";
import { setupCommand } from "./setup.ts";

/** The full command list, given the host seams some commands need. */
export function allCommands(host: GatewayRunHost): RunnerCommand[] {
  const ops = denoOpsHost();
  return [
    ...gatewayRunCommands(host),
    setupCommand,
    ...configCommands,
    secretsReloadCommand(ops),
    logsCommand(ops),
    ...opsCommands,
    ...pairingCommands,
  ];
}
