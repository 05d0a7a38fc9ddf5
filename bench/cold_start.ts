// Cold start of the runner, from its sources and as the bundle `deno task build` makes (what the installed
// CLI and the OS service run): process spawn → first `/health` 200 → first `hello-ok`, and idle RSS.
// Usage: deno run -A bench/cold_start.ts [runs=5]
// Each run uses a fresh HOME with a ready dev config (so setup is not timed) and a free port.
import "./_record.ts";
import { connectGateway } from "../lib/client/connection.ts";
import { freePort, runnerEnv, spawnRunner } from "../tests/_runner_process.ts";
import { join } from "node:path";
import { BUNDLE_RUN_FLAGS } from "../runner/commands/ops/host.ts";
import { buildRunner } from "../scripts/build_runner.ts";

const runs = Number(Deno.args[0] ?? 5);
const TOKEN = "bench-token-0123456789abcdef";

async function pollHealth(port: number): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function rssMb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]) / 1024;
}

type Row = { health: number; hello: number; rss: number };

/** One start of the runner (`entry`: a bundle instead of the sources) in a fresh HOME, timed. */
async function coldStart(entry?: string): Promise<Row> {
  const home = await Deno.makeTempDir();
  const state = join(home, ".openclaw-dev");
  await Deno.mkdir(state, { recursive: true });
  await Deno.writeTextFile(
    join(state, "openclaw.json"),
    JSON.stringify({ gateway: { mode: "local", auth: { mode: "token", token: TOKEN } } }),
  );
  const port = freePort();
  const started = performance.now();
  const proc = spawnRunner(["--dev", "gateway", "--port", String(port)], runnerEnv(home), {
    entry,
    denoFlags: entry ? [...BUNDLE_RUN_FLAGS] : [],
  });
  await pollHealth(port);
  const health = performance.now() - started;
  const connection = await connectGateway({
    url: `ws://127.0.0.1:${port}`,
    WebSocket,
    client: { id: "cli", mode: "cli", version: "bench", platform: Deno.build.os },
    token: TOKEN,
    scopes: ["operator.read"],
  });
  const hello = performance.now() - started;
  connection.close();
  await new Promise((r) => setTimeout(r, 1000));
  const rss = await rssMb(proc.child.pid);
  await proc.stop("SIGTERM");
  await Deno.remove(home, { recursive: true });
  return { health, hello, rss };
}

const dir = await Deno.makeTempDir();
const bundle = await buildRunner(`${dir}/bundle`);
// A first start after a build or an edit compiles without V8's code cache; every later start finds it.
await coldStart();
await coldStart(bundle);
const targets = { "runner (sources)": [] as Row[], "bundled runner (deno task build)": [] as Row[] };
// Interleaved, so a busy spell of the machine falls on both alike.
for (let i = 0; i < runs; i++) {
  targets["runner (sources)"].push(await coldStart());
  targets["bundled runner (deno task build)"].push(await coldStart(bundle));
}
await Deno.remove(dir, { recursive: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`Median of ${runs} starts each, after one unmeasured start that fills the code cache.\n`);
console.log(
  `| runner | spawn → /health 200 (ms) | spawn → hello-ok (ms) | idle RSS 1 s later (MB) | hello-ok per start (ms) |`,
);
console.log(`|---|---|---|---|---|`);
for (const [name, rows] of Object.entries(targets)) {
  const cell = (key: keyof Row, digits: number) => median(rows.map((r) => r[key])).toFixed(digits);
  console.log(
    `| ${name} | ${cell("health", 0)} | ${cell("hello", 0)} | ${cell("rss", 1)} | ${
      rows.map((r) => r.hello.toFixed(0)).join(" / ")
    } |`,
  );
}
