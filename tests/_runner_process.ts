// Runs `runner/main.ts` as a real subprocess in a throwaway HOME, and reads its output line by line.
import { join } from "node:path";

const MAIN = new URL("../runner/main.ts", import.meta.url).pathname;

/** A port that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A running runner process. */
export interface RunnerProcess {
  child: Deno.ChildProcess;
  lines: string[];
  stderr: string[];
  /** Resolves with the first stdout line (already seen or future) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
  status: Promise<Deno.CommandStatus>;
}

/** Environment for a runner in `home`: the real Deno cache (so nothing is downloaded) and no inherited OpenClaw vars. */
export function runnerEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    HOME: home,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR: Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache", "deno"),
    NO_COLOR: "1",
    ...extra,
  };
  return env;
}

function collect(stream: ReadableStream<Uint8Array>, into: string[], onLine: () => void): Promise<void> {
  return (async () => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let index;
      while ((index = buffer.indexOf("\n")) !== -1) {
        into.push(buffer.slice(0, index));
        buffer = buffer.slice(index + 1);
        onLine();
      }
    }
    if (buffer) into.push(buffer);
    onLine();
  })();
}

/** Starts `deno run -A runner/main.ts <args>`. */
export function spawnRunner(
  args: string[],
  env: Record<string, string>,
  { entry = MAIN, denoFlags = [] }: { entry?: string; denoFlags?: string[] } = {},
): RunnerProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...denoFlags, entry, ...args],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  const done = Promise.all([collect(child.stdout, lines, notify), collect(child.stderr, stderr, notify)]);
  const status = done.then(() => child.status);
  let exited = false;
  status.then(() => {
    exited = true;
    notify();
  });
  return {
    child,
    lines,
    stderr,
    status,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find((l) => pattern.test(l));
          if (hit) {
            cleanup();
            resolve(hit);
          } else if (exited) {
            cleanup();
            reject(new Error(`runner exited before ${pattern}:\n${lines.join("\n")}\n${stderr.join("\n")}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}:\n${lines.join("\n")}\n${stderr.join("\n")}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(signal = "SIGTERM") {
      if (!exited) child.kill(signal);
      return (await status).code;
    },
  };
}

/** Runs the runner to completion and returns its exit code and output. */
export async function runRunner(args: string[], env: Record<string, string>) {
  const proc = spawnRunner(args, env);
  const { code } = await proc.status;
  return { code, stdout: proc.lines.join("\n"), stderr: proc.stderr.join("\n") };
}

/** Starts `tests/_hardening_child.ts` (a bare gateway process) under `bash -c <prefix>; exec deno ...`. */
export async function spawnGatewayChild(
  transport: "deno" | "node",
  shellPrefix = "true",
): Promise<{ child: Deno.ChildProcess; port: number; output: string[]; stop(): Promise<void> }> {
  const script = new URL("./_hardening_child.ts", import.meta.url).pathname;
  const child = new Deno.Command("bash", {
    args: ["-c", `${shellPrefix}; exec "$0" run -A "$1" "$2"`, Deno.execPath(), script, transport],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const output: string[] = [];
  let resolvePort!: (port: number) => void;
  const port = new Promise<number>((r) => (resolvePort = r));
  const done = Promise.all([child.stdout, child.stderr].map((stream) =>
    collect(stream, output, () => {
      const hit = output.map((l) => /^PORT (\d+)/.exec(l)).find(Boolean);
      if (hit) resolvePort(Number(hit[1]));
    })
  ));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gateway child did not start:\n${output.join("\n")}`)), 30_000);
  });
  const started = await Promise.race([port, timeout]).catch(async (e) => {
    child.kill("SIGKILL");
    await done;
    throw e;
  }).finally(() => clearTimeout(timer));
  return {
    child,
    port: started,
    output,
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await done;
      await child.status;
    },
  };
}

/** A temp HOME for a runner (with its default profile dir), removed by `Symbol.asyncDispose` (`await using`). */
export async function tempHome(): Promise<{ home: string; state: string } & AsyncDisposable> {
  const home = await Deno.makeTempDir({ prefix: "openclaw-test-" });
  const state = join(home, ".openclaw");
  await Deno.mkdir(state, { recursive: true });
  return {
    home,
    state,
    [Symbol.asyncDispose]: () => Deno.remove(home, { recursive: true }).catch(() => {}),
  };
}
