// A hostile model provider against a gateway on loopback: clients keep asking for streams whose first SSE
// line never ends (the attack of issue 12 item 7) while one client polls `/health`. Prints peak RSS, the
// refused-turn count and `/health` latency, quiet versus under attack. Never asserts.
//
//   deno run -A bench/upstream_sse.ts [seconds=8] [attackers=2]
import "./_record.ts";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { startHostileUpstream } from "../tests/_upstream.ts";

const SECONDS = Number(Deno.args[0] ?? 8);
const ATTACKERS = Number(Deno.args[1] ?? 2);
const TOKEN = "bench-token-0123456789";

const up = startHostileUpstream();
const agents = agentsModule();
const gateway = createGateway({
  transport: denoTransport(),
  port: 0,
  hostname: "127.0.0.1",
  config: {
    gateway: {
      auth: { mode: "token", token: TOKEN },
      http: { endpoints: { chatCompletions: { enabled: true } } },
    },
    // The timeout outlasts the run, so only the gateway's own limits can end an attack request.
    models: {
      providers: { up: { baseUrl: up.openai, api: "openai-completions", timeoutSeconds: SECONDS + 30 } },
    },
  },
  modules: [agents, openAiHttpModule({ agents })],
  logSinks: [],
  logLevel: "error",
});
const base = `http://127.0.0.1:${(await gateway.start())!.port}`;

interface Row {
  scenario: string;
  health: number[];
  peakRssMiB: number;
  refused: number;
  still: number;
}

async function run(scenario: string, attackers: number): Promise<Row> {
  const stop = new AbortController();
  const until = Date.now() + SECONDS * 1000;
  let peak = Deno.memoryUsage().rss;
  const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 50);
  let refused = 0;
  let still = 0;
  const attack = async () => {
    while (Date.now() < until) {
      try {
        const res = await fetch(`${base}/v1/chat/completions`, {
          method: "POST",
          signal: stop.signal,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            "content-type": "application/json",
            "x-openclaw-model": "up/endless-line",
          },
          body: JSON.stringify({
            model: "openclaw",
            stream: true,
            messages: [{ role: "user", content: "hi" }],
          }),
        });
        await res.text();
        if (res.status === 502) refused++;
      } catch {
        still++; // Still being read when the run ended.
      }
    }
  };
  const attacks = Array.from({ length: attackers }, attack);
  const health: number[] = [];
  while (Date.now() < until) {
    const t0 = performance.now();
    const res = await fetch(`${base}/health`);
    await res.body?.cancel();
    health.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 10));
  }
  stop.abort();
  await Promise.all(attacks);
  clearInterval(sampler);
  return { scenario, health, peakRssMiB: peak / 1024 / 1024, refused, still };
}

const rows = [await run("quiet", 0), await run(`${ATTACKERS} endless-line streams`, ATTACKERS)];
await gateway.stop();
await up.close();

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
console.log(`\n${SECONDS} s per scenario, Deno ${Deno.version.deno}\n`);
console.log(
  "| scenario | /health requests | /health p50 ms | /health p99 ms | peak RSS MiB | refused turns | unfinished turns |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(
    `| ${r.scenario} | ${r.health.length} | ${pct(r.health, 0.5).toFixed(2)} | ${
      pct(r.health, 0.99).toFixed(2)
    } | ${r.peakRssMiB.toFixed(0)} | ${r.refused} | ${r.still} |`,
  );
}
