// Shared fakes for the operator-command and installer tests: a recording command runner and temp dirs.
import type { CommandResult, CommandRunner } from "../lib/service/types.ts";

/** A command runner that records every call as one string and answers from `respond` (default: exit 0). */
export function recordingRunner(
  respond: (command: string, args: string[]) => Partial<CommandResult> | undefined = () => undefined,
): { run: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  const run: CommandRunner = (command, args) => {
    calls.push([command, ...args].join(" "));
    return Promise.resolve({ code: 0, stdout: "", stderr: "", ...respond(command, args) });
  };
  return { run, calls };
}

/** A fresh temp directory removed when `body` finishes. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "openclaw-ops-" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
