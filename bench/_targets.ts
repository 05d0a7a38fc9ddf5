// The servers bench/side_by_side.ts and bench/soak.ts measure, each started as its own process tree from
// one shared openclaw.json: this gateway through its CLI runner, the reference OpenClaw gateway (npm
// `openclaw` on Node 24 from npm `node@24`), and a bare Deno.serve floor.
import { join } from "node:path";
import { processTree, waitHttp } from "./_workload.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Where the reference is installed (`npm install node@24`, then `openclaw` with that node on PATH). */
export const REFERENCE_DIR = Deno.env.get("OPENCLAW_REFERENCE_DIR") ?? "/tmp/refgw";

/** The Node ≥ 24 that runs it: `OPENCLAW_REFERENCE_NODE`, else npm's `node@24` installed next to it. */
export const REFERENCE_NODE = Deno.env.get("OPENCLAW_REFERENCE_NODE") ??
  join(REFERENCE_DIR, "node_modules/node/bin/node");

export type TargetKind = "ours" | "reference" | "floor";

/** A started server. */
export interface Target {
  kind: TargetKind;
  pid: number;
  port: number;
  wsUrl: string;
  httpBase: string;
  /** Spawn → first `/health` 200, in ms. */
  healthMs: number;
  spawnedAt: number;
  stop(): Promise<void>;
}

/** The config both gateways read: token auth, the chat endpoint on, one model on a loopback upstream. */
export function sharedConfig(port: number, token: string, upstreamUrl?: string): Record<string, unknown> {
  const config: Record<string, unknown> = {
    gateway: {
      mode: "local",
      port,
      bind: "loopback",
      auth: { mode: "token", token },
      http: { endpoints: { chatCompletions: { enabled: true } } },
    },
  };
  if (upstreamUrl) {
    config.models = {
      providers: {
        up: {
          baseUrl: upstreamUrl,
          apiKey: "bench-upstream-key",
          api: "openai-completions",
          models: [{ id: "m1", name: "m1" }],
        },
      },
    };
    config.agents = { defaults: { model: { primary: "up/m1" } } };
  }
  return config;
}

/** Why the reference cannot run here, or `undefined` when it can. */
export function referenceBlocked(): string | undefined {
  for (const file of [REFERENCE_NODE, join(REFERENCE_DIR, "node_modules/openclaw/openclaw.mjs")]) {
    try {
      Deno.statSync(file);
    } catch {
      return `reference not installed: ${file} is missing (see bench/README.md)`;
    }
  }
  return undefined;
}

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function command(kind: TargetKind, port: number, home: string, denoArgs: string[]): Deno.Command {
  const state = join(home, "state");
  const env = {
    HOME: home,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR: Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache", "deno"),
    OPENCLAW_STATE_DIR: state,
    OPENCLAW_CONFIG_PATH: join(state, "openclaw.json"),
    NO_COLOR: "1",
  };
  const io = { env, clearEnv: true, stdout: "null", stderr: "null", stdin: "null" } as const;
  if (kind === "ours") {
    return new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...denoArgs,
        "-A",
        join(ROOT, "runner/main.ts"),
        "gateway",
        "run",
        "--port",
        String(port),
      ],
      ...io,
    });
  }
  if (kind === "reference") {
    return new Deno.Command(REFERENCE_NODE, {
      args: [
        join(REFERENCE_DIR, "node_modules/openclaw/openclaw.mjs"),
        "gateway",
        "run",
        "--port",
        String(port),
      ],
      ...io,
    });
  }
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "bench/_floor_server.ts"), String(port)],
    ...io,
  });
}

/**
 * Writes a fresh state dir with `config` in it, spawns `kind`, and waits for `/health`. `denoArgs` go to
 * `deno run` for our gateway (`--inspect=...`, `--v8-flags=...`).
 */
export async function startTarget(
  kind: TargetKind,
  config: (port: number) => Record<string, unknown>,
  denoArgs: string[] = [],
): Promise<Target> {
  const home = await Deno.makeTempDir({ prefix: `bench-${kind}-` });
  const port = freePort();
  await Deno.mkdir(join(home, "state"), { recursive: true });
  await Deno.writeTextFile(join(home, "state", "openclaw.json"), JSON.stringify(config(port), null, 2));
  const spawnedAt = performance.now();
  const child = command(kind, port, home, denoArgs).spawn();
  const httpBase = `http://127.0.0.1:${port}`;
  let healthMs: number;
  try {
    healthMs = await Promise.race([
      waitHttp(`${httpBase}/health`, spawnedAt),
      child.status.then((s) => Promise.reject(new Error(`${kind} exited with ${s.code} before /health`))),
    ]);
  } catch (error) {
    await killTree(child.pid);
    throw error;
  }
  return {
    kind,
    pid: child.pid,
    port,
    wsUrl: `ws://127.0.0.1:${port}`,
    httpBase,
    healthMs,
    spawnedAt,
    async stop() {
      await killTree(child.pid);
      await child.status;
      await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  };
}

/** SIGTERM to the whole tree, SIGKILL to whatever is left after 3 s (the reference drains for minutes). */
async function killTree(pid: number): Promise<void> {
  const tree = processTree(pid);
  const signal = (sig: Deno.Signal) => {
    for (const p of tree) {
      try {
        Deno.kill(p, sig);
      } catch { /* already gone */ }
    }
  };
  signal("SIGTERM");
  const deadline = performance.now() + 3000;
  while (performance.now() < deadline && tree.some(alive)) await new Promise((r) => setTimeout(r, 50));
  signal("SIGKILL");
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}
