// Authenticated GET /v1/models requests per second with `wrk`, through the gateway (on the Deno transport's
// hardened engine, the default, and on its native Deno.serve engine) and through a bare Deno.serve answering
// the same JSON behind the same bearer check (the floor), in the same run.
//
//   apt-get install -y wrk
//   npx --yes deno@2.9.6 run -A bench/http_models_wrk.ts [seconds=5] [connections=50] [threads=2] [rounds=3]
//
// The targets take turns for `rounds` rounds and the table shows each one's median round: on a
// small shared VM one run swings by ±20%, and taking turns spreads the swings over all three.
//
// Without wrk it measures with an in-process fetch loop instead (and says so). Prints a markdown
// table; never asserts timings.
import "./_record.ts";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";

const SECONDS = Number(Deno.args[0] ?? 5);
const CONNECTIONS = Number(Deno.args[1] ?? 50);
const THREADS = Number(Deno.args[2] ?? 2);
const ROUNDS = Number(Deno.args[3] ?? 3);
const TOKEN = "bench-token-0123456789abcdef";

interface Result {
  target: string;
  requestsPerSecond: number;
  p50Ms?: number;
  p99Ms?: number;
  non2xx: number;
}

const startGateway = async (engine: "hardened" | "native") => {
  const agents = agentsModule();
  const gateway = createGateway({
    config: {
      gateway: {
        auth: { mode: "token", token: TOKEN },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
    },
    transport: denoTransport({ engine }),
    hostname: "127.0.0.1",
    port: 0,
    modules: [agents, openAiHttpModule({ agents })],
  });
  const address = await gateway.start();
  return { gateway, url: `http://127.0.0.1:${address!.port}/v1/models` };
};
const { gateway, url: gatewayUrl } = await startGateway("hardened");
const { gateway: nativeGateway, url: nativeUrl } = await startGateway("native");

// The floor serves exactly the gateway's answer, so both sides move the same bytes.
const modelsJson = await (await fetch(gatewayUrl, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
// A second floor also sends the gateway's response headers (the reference's security headers): in Deno
// each header beyond Content-Type costs several µs per response, so it shows what the headers cost and
// what the gateway's own code costs.
const gatewayHeaders: [string, string][] = [];
(await fetch(gatewayUrl, { headers: { authorization: `Bearer ${TOKEN}` } })).headers.forEach(
  (value, name) => {
    if (name !== "content-length" && name !== "date") gatewayHeaders.push([name, value]);
  },
);
const plainHeaders: [string, string][] = [["content-type", "application/json; charset=utf-8"]];
const floorServer = (headers: [string, string][]) =>
  Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (request.headers.get("authorization") !== `Bearer ${TOKEN}`) {
      return Response.json({ error: { message: "Unauthorized", type: "unauthorized" } }, { status: 401 });
    }
    return new Response(modelsJson, { headers });
  });
const floor = floorServer(plainHeaders);
const floorWithHeaders = floorServer(gatewayHeaders);
const floorUrl = `http://127.0.0.1:${floor.addr.port}/v1/models`;
const floorWithHeadersUrl = `http://127.0.0.1:${floorWithHeaders.addr.port}/v1/models`;

/** `2.50ms`, `1.20s`, `850.00us` → milliseconds. */
function toMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) return NaN;
  const value = Number(match[1]);
  return value * { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as "us" | "ms" | "s" | "m"];
}

async function hasWrk(): Promise<boolean> {
  try {
    return (await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output())
      .code <= 1;
  } catch {
    return false;
  }
}

async function runWrk(target: string, url: string): Promise<Result> {
  const { stdout } = await new Deno.Command("wrk", {
    args: [
      `-t${THREADS}`,
      `-c${CONNECTIONS}`,
      `-d${SECONDS}s`,
      "--latency",
      "-H",
      `Authorization: Bearer ${TOKEN}`,
      url,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(stdout);
  const percentile = (p: string) => {
    const match = new RegExp(`^\\s+${p}%\\s+(\\S+)`, "m").exec(text);
    return match ? toMs(match[1]) : undefined;
  };
  return {
    target,
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN),
    p50Ms: percentile("50"),
    p99Ms: percentile("99"),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0),
  };
}

/** The fallback: CONNECTIONS concurrent fetch loops for SECONDS. */
async function runLoop(target: string, url: string): Promise<Result> {
  const latencies: number[] = [];
  let non2xx = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      await response.arrayBuffer();
      latencies.push(performance.now() - start);
      if (response.status !== 200) non2xx++;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { target, requestsPerSecond: latencies.length / SECONDS, p50Ms: at(0.5), p99Ms: at(0.99), non2xx };
}

const withWrk = await hasWrk();
const measure = withWrk ? runWrk : runLoop;
if (!withWrk) console.log("wrk is not installed: measuring with an in-process fetch loop instead.\n");
const targets: [string, string][] = [
  ["bare Deno.serve + bearer check (floor)", floorUrl],
  ["floor + the gateway's response headers", floorWithHeadersUrl],
  ["gateway GET /v1/models (hardened engine)", gatewayUrl],
  ["gateway GET /v1/models (native engine)", nativeUrl],
];
const rounds: Result[][] = targets.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  // The floor first in every round, so a warm JIT does not favour the gateway.
  for (const [i, [target, url]] of targets.entries()) rounds[i].push(await measure(target, url));
}
const median = (runs: Result[]) =>
  [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor((runs.length - 1) / 2)];
const results = rounds.map(median);
const responseBytes = async (url: string) => {
  const response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = new TextEncoder().encode(await response.text()).byteLength;
  let head = "HTTP/1.1 200 OK\r\n".length + 2;
  response.headers.forEach((value, name) => head += name.length + value.length + 4);
  return head + body;
};
const sizes = [await responseBytes(floorUrl), await responseBytes(gatewayUrl)];
await floor.shutdown();
await floorWithHeaders.shutdown();
await gateway.stop();
await nativeGateway.stop();

const fmt = (ms: number | undefined) => ms === undefined || Number.isNaN(ms) ? "n/a" : ms.toFixed(2);
const tool = withWrk
  ? `wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s`
  : `fetch loop, ${CONNECTIONS} concurrent`;
console.log(`GET /v1/models with a bearer token, ${tool}, loopback, median of ${ROUNDS} rounds\n`);
console.log("| target | requests/s | p50 (ms) | p99 (ms) | non-2xx |");
console.log("| --- | --- | --- | --- | --- |");
for (const r of results) {
  console.log(
    `| ${r.target} | ${r.requestsPerSecond.toFixed(0)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${r.non2xx} |`,
  );
}
const gatewayRps = results[2].requestsPerSecond;
console.log(
  `\ngateway / floor = ${(gatewayRps / results[0].requestsPerSecond).toFixed(2)}× (issue target ≥ 0.5×)`,
);
console.log(
  `gateway / floor with the same headers = ${(gatewayRps / results[1].requestsPerSecond).toFixed(2)}×`,
);
console.log(`hardened / native engine = ${(gatewayRps / results[3].requestsPerSecond).toFixed(2)}×`);
console.log(
  `response bytes on the wire: floor ${sizes[0]}, gateway ${
    sizes[1]
  } (Deno writes a response over ~512 bytes ` +
    `in two send calls)`,
);
console.log(
  `per-round requests/s: ${
    rounds.map((runs, i) =>
      `${["floor", "floor+headers", "gateway", "gateway native"][i]} ${
        runs.map((r) => r.requestsPerSecond.toFixed(0)).join("/")
      }`
    )
      .join("; ")
  }`,
);
