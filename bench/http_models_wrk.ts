// Authenticated GET /v1/models requests per second with `wrk`, through the gateway (on the Deno transport's
// hardened engine, the default, and on its native Deno.serve engine) and through a bare Deno.serve answering
// the same JSON behind the same bearer check (the floor), in the same run. Every target is its own process
// (bench/_models_server.ts), so none shares a V8 heap, JIT or event loop with another or with this script.
//
//   apt-get install -y wrk
//   npx --yes deno@2.9.6 run -A bench/http_models_wrk.ts [seconds=5] [connections=50] [threads=2] [rounds=3]
//     [--before <git ref>]
//
// `--before` adds the gateway of an older commit (checked out in a temporary worktree) on its native
// engine, to show whether a change cost throughput.
//
// The targets take turns for `rounds` rounds and the table shows each one's median round: on a
// small shared VM one run swings by ±20%, and taking turns spreads the swings over all of them.
//
// Beside requests/s the table shows each server's CPU time per request (user + system, read from
// /proc/<pid>/stat around each run; Linux only): on a shared machine requests/s follows whoever else is
// busy, while CPU per request moves much less, so it is the figure to compare across runs.
//
// Without wrk it measures with an in-process fetch loop instead (and says so). Prints a markdown
// table; never asserts timings.
import "./_record.ts";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  options: { before: { type: "string" } },
  allowPositionals: true,
});
const SECONDS = Number(positionals[0] ?? 5);
const CONNECTIONS = Number(positionals[1] ?? 50);
const THREADS = Number(positionals[2] ?? 2);
const ROUNDS = Number(positionals[3] ?? 3);
const TOKEN = "bench-token-0123456789abcdef";
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const SERVER = new URL("./_models_server.ts", import.meta.url).pathname;

interface Result {
  target: string;
  requestsPerSecond: number;
  /** The server's CPU microseconds per request, when /proc tells. */
  cpuUsPerRequest?: number;
  p50Ms?: number;
  p99Ms?: number;
  non2xx: number;
}

interface Server {
  url: string;
  /** CPU seconds the server process has used so far (user + system), or undefined off Linux. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

/** The kernel's clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Starts one target in its own process and waits for its port. */
async function spawnServer(root: string, kind: string): Promise<Server> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${root}/deno.json`, SERVER, root, kind, TOKEN],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/PORT (\d+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${kind} from ${root} exited before listening`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const port = /PORT (\d+)/.exec(text)![1];
  return {
    url: `http://127.0.0.1:${port}/v1/models`,
    cpuSeconds: () => cpuSecondsOf(child.pid),
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** A temporary worktree of `ref` sharing this checkout's node_modules; removed by the returned function. */
async function checkout(ref: string): Promise<{ root: string; remove(): Promise<void> }> {
  const root = await Deno.makeTempDir({ prefix: "openclaw-bench-before-" });
  const git = (...args: string[]) => new Deno.Command("git", { args, cwd: ROOT, stdout: "null" }).output();
  if (!(await git("worktree", "add", "--detach", root, ref)).success) {
    throw new Error(`cannot check out ${ref}`);
  }
  await Deno.symlink(`${ROOT}/node_modules`, `${root}/node_modules`);
  return {
    root,
    async remove() {
      await git("worktree", "remove", "--force", root);
    },
  };
}

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

async function runWrk(target: string, url: string): Promise<Result & { requests: number }> {
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
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN),
    p50Ms: percentile("50"),
    p99Ms: percentile("99"),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0),
  };
}

/** The fallback: CONNECTIONS concurrent fetch loops for SECONDS. */
async function runLoop(target: string, url: string): Promise<Result & { requests: number }> {
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
  return {
    target,
    requestsPerSecond: latencies.length / SECONDS,
    requests: latencies.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    non2xx,
  };
}

const withWrk = await hasWrk();
const load = withWrk ? runWrk : runLoop;
/** One run against `server`, with the CPU it spent per request. */
async function measure(target: string, server: Server): Promise<Result> {
  const cpuBefore = server.cpuSeconds();
  const { requests, ...result } = await load(target, server.url);
  const cpuAfter = server.cpuSeconds();
  return cpuBefore === undefined || cpuAfter === undefined
    ? result
    : { ...result, cpuUsPerRequest: ((cpuAfter - cpuBefore) * 1e6) / requests };
}
if (!withWrk) console.log("wrk is not installed: measuring with an in-process fetch loop instead.\n");
const before = values.before ? await checkout(values.before) : undefined;
const kinds: [string, string, string][] = [
  ["bare Deno.serve + bearer check (floor)", ROOT, "floor"],
  ["floor + the gateway's response headers", ROOT, "floor-headers"],
  ["gateway GET /v1/models (hardened engine)", ROOT, "hardened"],
  ["gateway GET /v1/models (native engine)", ROOT, "native"],
];
if (before) kinds.push([`gateway at ${values.before} (native engine)`, before.root, "native"]);
const servers = await Promise.all(kinds.map(([, root, kind]) => spawnServer(root, kind)));
const targets: [string, Server][] = kinds.map(([target], i) => [target, servers[i]]);
const rounds: Result[][] = targets.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  // The floor first in every round, so a warm JIT does not favour the gateway.
  for (const [i, [target, server]] of targets.entries()) rounds[i].push(await measure(target, server));
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
const sizes = [await responseBytes(targets[0][1].url), await responseBytes(targets[2][1].url)];
await Promise.all(servers.map((server) => server.stop()));
await before?.remove();

const fmt = (ms: number | undefined) => ms === undefined || Number.isNaN(ms) ? "n/a" : ms.toFixed(2);
const tool = withWrk
  ? `wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s`
  : `fetch loop, ${CONNECTIONS} concurrent`;
console.log(`GET /v1/models with a bearer token, ${tool}, loopback, median of ${ROUNDS} rounds\n`);
console.log("| target | requests/s | server CPU µs/request | p50 (ms) | p99 (ms) | non-2xx |");
console.log("| --- | --- | --- | --- | --- | --- |");
const cpuMedian = (runs: Result[]) => {
  const values = runs.flatMap((r) => r.cpuUsPerRequest ?? []).sort((a, b) => a - b);
  return values.length ? values[Math.floor((values.length - 1) / 2)] : undefined;
};
const cpus = rounds.map(cpuMedian);
for (const [i, r] of results.entries()) {
  console.log(
    `| ${r.target} | ${r.requestsPerSecond.toFixed(0)} | ${cpus[i]?.toFixed(1) ?? "n/a"} | ${
      fmt(r.p50Ms)
    } | ${fmt(r.p99Ms)} | ${r.non2xx} |`,
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
if (before) {
  console.log(
    `native engine / ${values.before} = ${
      (results[3].requestsPerSecond / results[4].requestsPerSecond).toFixed(2)
    }× by requests/s, ${
      cpus[3] && cpus[4] ? `${(cpus[4] / cpus[3]).toFixed(2)}×` : "n/a"
    } by server CPU per request (its CPU over ours)`,
  );
}
console.log(
  `response bytes on the wire: floor ${sizes[0]}, gateway ${
    sizes[1]
  } (Deno writes a response over ~512 bytes ` +
    `in two send calls)`,
);
console.log(
  `per-round requests/s: ${
    rounds.map((runs, i) =>
      `${["floor", "floor+headers", "gateway", "gateway native", "before"][i]} ${
        runs.map((r) => r.requestsPerSecond.toFixed(0)).join("/")
      }`
    )
      .join("; ")
  }`,
);
