// Cold start of the runner: process spawn → first `/health` 200 → first `hello-ok`, and idle RSS.
// Usage: deno run -A bench/cold_start.ts [runs=5]
// Each run uses a fresh HOME with a ready dev config (so setup is not timed) and a free port.
import "./_record.ts";
import { connectGateway } from "../lib/client/connection.ts";
import { freePort, runnerEnv, spawnRunner } from "../tests/_runner_process.ts";
import { join } from "node:path";

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

const rows: { health: number; hello: number; rss: number }[] = [];
for (let i = 0; i < runs; i++) {
  const home = await Deno.makeTempDir();
  const state = join(home, ".openclaw-dev");
  await Deno.mkdir(state, { recursive: true });
  await Deno.writeTextFile(
    join(state, "openclaw.json"),
    JSON.stringify({ gateway: { mode: "local", auth: { mode: "token", token: TOKEN } } }),
  );
  const port = freePort();
  const started = performance.now();
  const proc = spawnRunner(["--dev", "gateway", "--port", String(port)], runnerEnv(home));
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
  rows.push({ health, hello, rss: await rssMb(proc.child.pid) });
  await proc.stop("SIGTERM");
  await Deno.remove(home, { recursive: true });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| run | spawn → /health 200 (ms) | spawn → hello-ok (ms) | idle RSS (MB) |`);
console.log(`|---|---|---|---|`);
rows.forEach((r, i) =>
  console.log(`| ${i + 1} | ${r.health.toFixed(0)} | ${r.hello.toFixed(0)} | ${r.rss.toFixed(1)} |`)
);
console.log(
  `| **median of ${runs}** | **${median(rows.map((r) => r.health)).toFixed(0)}** | **${
    median(rows.map((r) => r.hello)).toFixed(0)
  }** | **${median(rows.map((r) => r.rss)).toFixed(1)}** |`,
);
