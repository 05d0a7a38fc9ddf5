// Debian daemons the tests run on loopback (redis-server, haproxy, nginx): where their binary is, and one
// running in a temp dir of its own until the test stops it.
import { join } from "node:path";

/** `name` in the first of `dirs`, then of PATH's directories, that has it; undefined when none does. */
export function findBinary(name: string, dirs: readonly string[]): string | undefined {
  const path = (Deno.env.get("PATH") ?? "").split(":");
  for (const dir of [...dirs, ...path]) {
    try {
      if (Deno.statSync(join(dir, name)).isFile) return join(dir, name);
    } catch { /* not here */ }
  }
  return undefined;
}

/**
 * Runs `binary` until `stop()` (once, however often called), which also removes `dir`; `stderr` is all it
 * wrote there, once it ended.
 */
export function spawnIn(dir: string, binary: string, args: string[]): {
  stderr: Promise<string>;
  stop(): Promise<void>;
} {
  const child = new Deno.Command(binary, { args, stdin: "null", stdout: "null", stderr: "piped" }).spawn();
  const stderr = new Response(child.stderr).text();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await stderr;
      await Deno.remove(dir, { recursive: true });
    })();
  return { stderr, stop };
}

/**
 * Resolves once `name` accepts connections on loopback `port`; after 10 s it ends it with `giveUp` and
 * throws.
 */
export async function untilListening(name: string, port: number, giveUp: () => unknown): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        await giveUp();
        throw new Error(`${name} did not listen on ${port}: ${error}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
