// Operator command latency against a local gateway: the in-process probe round trip (connect +
// hello-ok + health + status), and the wall time of `openclaw gateway status` / `health` as separate
// processes, process start included. Prints a markdown table; asserts nothing.
//
//   npx --yes deno@2.9.6 run -A bench/ops_probe.ts [probeRuns=200] [processRuns=10]
import "./_record.ts";
import { createGateway } from "../mod.ts";
import { nodeTransport } from "../node.ts";
import { probeTarget } from "../runner/commands/ops/connect.ts";
import { denoOpsHost } from "../runner/commands/ops/host.ts";

const probeRuns = Number(Deno.args[0] ?? 200);
const processRuns = Number(Deno.args[1] ?? 10);
const TOKEN = "bench-token-0123456789";

function quantiles(samples: number[]): { median: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { median: at(0.5), p99: at(0.99) };
}

const gateway = createGateway({
  config: { gateway: { mode: "local", auth: { token: TOKEN } } },
  transport: nodeTransport(),
  port: 0,
  hostname: "127.0.0.1",
});
const { port } = (await gateway.start())!;
const home = await Deno.makeTempDir({ prefix: "openclaw-bench-" });
await Deno.mkdir(`${home}/.openclaw`, { mode: 0o700 });
await Deno.writeTextFile(
  `${home}/.openclaw/openclaw.json`,
  JSON.stringify({ gateway: { mode: "local", port, auth: { token: TOKEN } } }),
);

const rows: string[] = [];
try {
  const host = denoOpsHost();
  const target = {
    id: "local" as const,
    label: "Local loopback",
    url: `ws://127.0.0.1:${port}`,
    token: TOKEN,
  };
  const samples: number[] = [];
  for (let i = 0; i < probeRuns + 10; i++) {
    const started = performance.now();
    const outcome = await probeTarget(host, target, { timeoutMs: 3000, read: true });
    if (!outcome.rpcOk) throw new Error(`probe failed: ${outcome.error?.message ?? outcome.readError}`);
    if (i >= 10) samples.push(performance.now() - started);
  }
  const probe = quantiles(samples);
  rows.push(
    `| probe round trip (in-process: connect + health + status) | ${probeRuns} | ${
      probe.median.toFixed(2)
    } | ${probe.p99.toFixed(2)} |`,
  );

  const main = new URL("../runner/main.ts", import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  for (
    const argv of [["--version"], ["gateway", "status"], ["gateway", "health"], ["health"], [
      "gateway",
      "probe",
    ]]
  ) {
    const times: number[] = [];
    for (let i = 0; i < processRuns + 1; i++) {
      const started = performance.now();
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", config, main, ...argv],
        env: { HOME: home },
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!out.success) throw new Error(`${argv.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
      if (i > 0) times.push(performance.now() - started);
    }
    const q = quantiles(times);
    rows.push(
      `| \`openclaw ${argv.join(" ")}\` (process, wall) | ${processRuns} | ${q.median.toFixed(1)} | ${
        q.p99.toFixed(1)
      } |`,
    );
  }
} finally {
  await gateway.stop();
  await Deno.remove(home, { recursive: true });
}

console.log("| measurement | runs | median ms | p99 ms |");
console.log("|---|---:|---:|---:|");
for (const row of rows) console.log(row);
