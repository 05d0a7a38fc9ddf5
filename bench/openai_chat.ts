// Chat completions through the gateway on loopback: requests/s and latency percentiles for the
// built-in local model (non-streaming and streaming), and the overhead the gateway adds in front of
// a loopback OpenAI-compatible upstream compared with calling that upstream directly.
//
//   npx --yes deno@2.9.6 run -A bench/openai_chat.ts [requests=400] [concurrency=8] [rounds=8]
//
// Prints a markdown table; never asserts timings.
import "./_record.ts";
import { jsonlStores } from "../lib/state/jsonl-stores.ts";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { startFakeUpstream } from "../tests/_upstream.ts";

const REQUESTS = Number(Deno.args[0] ?? 400);
const CONCURRENCY = Number(Deno.args[1] ?? 8);
const ROUNDS = Number(Deno.args[2] ?? 8);
const TOKEN = "bench-token-0123456789abcdef";

interface Sample {
  totalMs: number;
  firstTokenMs: number;
}

const upstream = startFakeUpstream();

/** A gateway in this process; with `stateDir`, sessions and transcripts go to disk (JSONL, fsync'd). */
async function startGateway(stateDir?: string) {
  const agents = agentsModule();
  const gateway = createGateway({
    stores: stateDir ? jsonlStores(stateDir) : {},
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

interface Row {
  name: string;
  url: string;
  stream: boolean;
  headers: Record<string, string>;
  samples: Sample[];
  seconds: number;
}

/** Sends `count` requests from CONCURRENCY clients; adds the samples and the time taken to `row`. */
async function measure(row: Row, count: number) {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < count) row.samples.push(await once(row.url, row.stream, row.headers));
  }));
  row.seconds += (performance.now() - started) / 1000;
}

function summary(row: Row) {
  const pct = (values: number[], p: number) =>
    values.sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];
  const total = row.samples.map((s) => s.totalMs);
  const ttft = row.samples.map((s) => s.firstTokenMs);
  return {
    rps: row.samples.length / row.seconds,
    p50: pct(total, 0.5),
    p99: pct(total, 0.99),
    ttft50: pct(ttft, 0.5),
  };
}

const auth = { authorization: `Bearer ${TOKEN}` };
const viaUpstream = { ...auth, "x-openclaw-model": "up/m1" };
const viaUpstreamDurable = { ...viaUpstream, "x-bench-user": "1" };
const row = (name: string, url: string, stream: boolean, headers: Record<string, string>): Row => ({
  name,
  url,
  stream,
  headers,
  samples: [],
  seconds: 0,
});
const direct = `${upstream.url}/chat/completions`;
const table: Row[] = [
  row("local model, non-streaming (gateway)", gatewayUrl, false, auth),
  row("local model, streaming (gateway)", gatewayUrl, true, auth),
  row("loopback upstream, non-streaming, direct", direct, false, {}),
  row("loopback upstream, non-streaming, via gateway", gatewayUrl, false, viaUpstream),
  row("loopback upstream, streaming, direct", direct, true, {}),
  row("loopback upstream, streaming, via gateway", gatewayUrl, true, viaUpstream),
  row(
    "loopback upstream, non-streaming, via gateway, sessions on disk",
    durable.url,
    false,
    viaUpstreamDurable,
  ),
  row("loopback upstream, streaming, via gateway, sessions on disk", durable.url, true, viaUpstreamDurable),
];
for (const r of table) for (let i = 0; i < 50; i++) await once(r.url, r.stream, r.headers); // warm-up
// The rows take turns in ROUNDS slices, so a slow patch of a shared machine hits all of them alike and
// the differences between rows (the gateway's overhead) stay fair.
for (let round = 0; round < ROUNDS; round++) {
  for (const r of table) await measure(r, Math.ceil(REQUESTS / ROUNDS));
}
const rows = table.map((r) => [r.name, summary(r)] as const);
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
