/**
 * Runs init-system commands through the {@link CommandRunner} seam and turns failures into messages
 * that say which command failed and what to try next.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import type { CommandResult, CommandRunner } from "./types.ts";

/** Runs a command and throws when it is missing or exits non-zero. `hint` is appended to failures. */
export async function runChecked(
  run: CommandRunner,
  command: string,
  args: string[],
  hint = "",
): Promise<CommandResult> {
  const result = await run(command, args);
  if (result.notFound) throw missingTool(command);
  if (result.code !== 0) throw commandFailure(command, args, result, hint);
  return result;
}

/** The error for a command that ran and exited non-zero, quoting the end of its output. */
export function commandFailure(
  command: string,
  args: string[],
  result: CommandResult,
  hint = "",
): GatewayError {
  const output = (result.stderr || result.stdout).trim().split("\n").slice(-3).join(" ");
  const suffix = hint ? ` ${hint}` : "";
  return new GatewayError(
    "UNAVAILABLE",
    `\`${[command, ...args].join(" ")}\` failed (exit ${result.code})${
      output ? `: ${output}` : ""
    }.${suffix}`,
  );
}

/** Runs a command whose failure is expected in some states (e.g. stopping what is not running). */
export async function runTolerant(
  run: CommandRunner,
  command: string,
  args: string[],
): Promise<CommandResult> {
  const result = await run(command, args);
  if (result.notFound) throw missingTool(command);
  return result;
}

/** The error for a host without the init system's command-line tool. */
export function missingTool(command: string): GatewayError {
  return new GatewayError(
    "UNAVAILABLE",
    `${command} not found: this host has no supported service manager for the gateway. ` +
      "Run the gateway in the foreground with `openclaw gateway run`, or under your own supervisor.",
  );
}

/** The error for controlling a service that was never installed. */
export function notInstalled(definitionPath: string): GatewayError {
  return new GatewayError(
    "NOT_FOUND",
    `the gateway service is not installed (no ${definitionPath}). Run \`openclaw gateway install\` first, ` +
      "or start it in the foreground with `openclaw gateway run`.",
  );
}
