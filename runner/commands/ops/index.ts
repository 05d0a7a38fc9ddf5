/**
 * Operator commands (status, health, probe, doctor, service management, channels).
 *
 * @module
 */
import type { RunnerCommand } from "../../command.ts";

/** Every operator command, dispatched by `runner/main.ts`. */
export const opsCommands: RunnerCommand[] = [];
