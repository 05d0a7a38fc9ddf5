/**
 * Operator commands (status, health, probe, call, doctor, service management, channels).
 *
 * @module
 */
import type { RunnerCommand } from "../../command.ts";
import { doctorCommand } from "./doctor.ts";
import { gatewayProbeCommand } from "./gateway-probe.ts";
import { gatewayStatusCommand } from "./gateway-status.ts";
import { denoOpsHost, type OpsHost } from "./host.ts";
import { rpcCommands } from "./rpc-commands.ts";
import { serviceCommands } from "./service-commands.ts";
import { statusCommands } from "./status-commands.ts";

/** The operator commands wired to `host` (tests pass a fake one). */
export function createOpsCommands(host: OpsHost): RunnerCommand[] {
  return [
    gatewayStatusCommand(host),
    gatewayProbeCommand(host),
    ...rpcCommands(host),
    ...serviceCommands(host),
    ...statusCommands(host),
    doctorCommand(host),
  ];
}

/** Every operator command, dispatched by `runner/main.ts`. */
export const opsCommands: RunnerCommand[] = createOpsCommands(denoOpsHost());
