// Chat completions through the gateway on loopback: requests/s and latency percentiles for the
// built-in local model (non-streaming and streaming), and the overhead the gateway adds in front of
// a loopback OpenAI-compatible upstream compared with calling that upstream directly.
//
//   npx --yes deno@2.9.6 run -A bench/openai_chat.ts [requests=400] [concurrency=8]
//
// Prints a markdown table; never asserts timings.
import { jsonlStores } from "../lib/agents/jsonl-stores.ts";
import { agentsModule, openAiHttpModule } from "../lib/agents/mod.ts";
import { createGateway, denoTransport } from "../mod.ts";
import { startFakeUpstream } from "../tests/_upstream.ts";

const REQUESTS = Number(Deno.args[0] ?? 400);
const CONCURRENCY = Number(Deno.args[1] ?? 8);
const TOKEN = "bench-token-0123456789abcdef";

interface Sample {
  totalMs: number;
  firstTokenMs: number;
}

const upstream = startFakeUpstream();

/** A gateway in this process; with `stateDir`, sessions and transcripts go to disk (JSONL, fsync'd). */
async function startGateway(stateDir?: string) {
  const agents = agentsModule(stateDir ? { stores: jsonlStores(stateDir) } : {});
  const gateway = createGateway({
    config: {
      gateway: {
        auth: { mode: "token", token: TOKEN },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
      models: { providers: { up: { baseUrl: upstream.url, api: "openai-completions" } } },
    },
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    modules: [agents, openAiHttpModule({ agents })],
  });
  const address = await gateway.start();
  return { gateway, url: `http://127.0.0.1:${address!.port}/v1/chat/completions` };
}
const { gateway, url: gatewayUrl } = await startGateway();
// Under the working directory rather than /tmp, which may be a tmpfs where fsync costs nothing.
const stateDir = await Deno.makeTempDir({ dir: ".", prefix: ".bench-state-" });
const durable = await startGateway(stateDir);

/** One request; time to the first body byte counts as time to first token for streams. */
function withoutBenchHeaders(headers: Record<string, string>): Record<string, string> {
  const { "x-bench-user": _, ...rest } = headers;
  return rest;
}

async function once(url: string, stream: boolean, headers: Record<string, string>): Promise<Sample> {
  // The upstream takes its own model id; the gateway takes an agent target.
  const model = url.startsWith(upstream.url) ? "m1" : "openclaw";
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...withoutBenchHeaders(headers) },
    // A `user` names a durable session; a fresh one per request keeps every turn the same size.
    body: JSON.stringify({
      model,
      stream,
      messages: [{ role: "user", content: "hi there" }],
      ...(headers["x-bench-user"] ? { user: crypto.randomUUID() } : {}),
    }),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  const reader = response.body!.getReader();
  let firstTokenMs = -1;
  for (;;) {
    const { done } = await reader.read();
    if (firstTokenMs < 0) firstTokenMs = performance.now() - started;
    if (done) break;
  }
  return { totalMs: performance.now() - started, firstTokenMs };
}

async function measure(url: string, stream: boolean, headers: Record<string, string>) {
  for (let i = 0; i < 50; i++) await once(url, stream, headers); // warm-up
  const samples: Sample[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < REQUESTS) samples.push(await once(url, stream, headers));
  }));
  const seconds = (performance.now() - started) / 1000;
  const pct = (values: number[], p: number) =>
    values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];
  const total = samples.map((s) => s.totalMs);
  const ttft = samples.map((s) => s.firstTokenMs);
  return {
    rps: samples.length / seconds,
    p50: pct(total, 0.5),
    p99: pct(total, 0.99),
    ttft50: pct(ttft, 0.5),
  };
}

const auth = { authorization: `Bearer ${TOKEN}` };
const viaUpstream = { ...auth, "x-openclaw-model": "up/m1" };
const viaUpstreamDurable = { ...viaUpstream, "x-bench-user": "1" };
const rows: [string, Awaited<ReturnType<typeof measure>>][] = [
  ["local model, non-streaming (gateway)", await measure(gatewayUrl, false, auth)],
  ["local model, streaming (gateway)", await measure(gatewayUrl, true, auth)],
  ["loopback upstream, non-streaming, direct", await measure(`${upstream.url}/chat/completions`, false, {})],
  ["loopback upstream, non-streaming, via gateway", await measure(gatewayUrl, false, viaUpstream)],
  ["loopback upstream, streaming, direct", await measure(`${upstream.url}/chat/completions`, true, {})],
  ["loopback upstream, streaming, via gateway", await measure(gatewayUrl, true, viaUpstream)],
  [
    "loopback upstream, non-streaming, via gateway, sessions on disk",
    await measure(durable.url, false, viaUpstreamDurable),
  ],
  [
    "loopback upstream, streaming, via gateway, sessions on disk",
    await measure(durable.url, true, viaUpstreamDurable),
  ],
];
await durable.gateway.stop();
await Deno.remove(stateDir, { recursive: true });
await gateway.stop();
await upstream.close();

const ms = (x: number) => x.toFixed(2);
console.log(`\n${REQUESTS} requests per row, ${CONCURRENCY} concurrent clients, Deno ${Deno.version.deno}\n`);
console.log("| scenario | requests/s | p50 ms | p99 ms | p50 first byte ms |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const [name, r] of rows) {
  console.log(`| ${name} | ${r.rps.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.ttft50)} |`);
}
const added = (direct: number, via: number) => ms(rows[via][1].p50 - rows[direct][1].p50);
console.log(
  `\nAdded p50 latency through the gateway: non-streaming ${added(2, 3)} ms, streaming ${added(4, 5)} ms;`,
);
console.log(`added p50 time to first byte (streaming): ${ms(rows[5][1].ttft50 - rows[4][1].ttft50)} ms.`);
console.log(
  `With sessions on disk (each request a new session: entry, input and reply fsync'd): non-streaming ` +
    `${added(2, 6)} ms, streaming ${added(4, 7)} ms, first byte ${
      ms(rows[7][1].ttft50 - rows[4][1].ttft50)
    } ms.`,
);
