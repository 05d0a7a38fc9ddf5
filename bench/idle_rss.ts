import "./_record.ts";
/**
 * Where the runner's idle RSS goes: the idle runner (after one `hello-ok`) beside floors that each add one
 * thing to a bare `Deno.serve` (zod through npm, one `node:` module, every module `gateway run` loads),
 * so the difference between two rows is what that thing costs. RSS is split into anonymous memory (V8 heap, malloc) and file pages, and
 * the file pages the `deno` binary itself keeps resident are shown apart (code the process ran).
 *
 *   deno run -A bench/idle_rss.ts [rounds=3] [later=60]
 *
 * The runner is sampled twice: 1 s after its `hello-ok`, like `cold_start.ts`, and `later` seconds after it.
 * The same two samples are taken of the bundled runner that `deno task build` makes (what the installed CLI
 * and the OS service run). Capping V8's young generation (`--v8-flags=--max-semi-space-size=1`) was
 * measured too: 4 MiB less at 1 s, nothing at 60 s, so it is not used; so was turning V8's optimizing
 * compilers off (`--v8-flags=--no-opt,--no-maglev`): some 2 MiB fewer pages of the deno binary, paid for in
 * unoptimized hot paths, so it is not used either.
 * In between V8 shrinks the young generation that start-up grew (about 7 MiB, some 30–45 s into idling),
 * so the second figure is what an idle gateway keeps.
 *
 * Targets take turns, one process at a time, and each row is its median round. Each runner is started once
 * before the rounds and not sampled: its first run after a build or an edit has no V8 code cache yet and
 * compiles everything it loads (the bundle's first run keeps some 40 MiB more than any later one).
 * Prints a markdown table; never asserts.
 */
import { connectGateway } from "../lib/client/connection.ts";
import { BUNDLE_RUN_FLAGS } from "../runner/commands/ops/host.ts";
import { buildRunner } from "../scripts/build_runner.ts";
import { freePort, runnerEnv, spawnRunner } from "../tests/_runner_process.ts";

const ROUNDS = Number(Deno.args[0] ?? 3);
const LATER_S = Number(Deno.args[1] ?? 60);
const TOKEN = "bench-token-0123456789abcdef";
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const BINARY = Deno.realPathSync(Deno.execPath());

interface Sample {
  rss: number;
  anon: number;
  file: number;
  binary: number;
}

/** Resident MiB of `pid` from /proc: total, anonymous, file-backed, and the deno binary's own pages. */
function sample(pid: number): Sample {
  const kib = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(text)![1]);
  const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  let binary = 0;
  let inBinary = false;
  for (const line of Deno.readTextFileSync(`/proc/${pid}/smaps`).split("\n")) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) inBinary = mapping[1] === BINARY;
    else if (inBinary && line.startsWith("Rss:")) binary += kib(line, "Rss");
  }
  const rss = kib(rollup, "Rss");
  const anon = kib(rollup, "Anonymous");
  return { rss: rss / 1024, anon: anon / 1024, file: (rss - anon) / 1024, binary: binary / 1024 };
}

const settle = () => new Promise((r) => setTimeout(r, 1000));

async function untilHealthy(url: string): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The runner after one `hello-ok`: sampled 1 s later, then again once V8 has had time to shrink its heap
 * (unless `later` is false: a warm-up run, sampled once).
 */
async function runner(entry?: string, later = true): Promise<Sample[]> {
  const home = await Deno.makeTempDir();
  await Deno.mkdir(`${home}/.openclaw-dev`);
  await Deno.writeTextFile(
    `${home}/.openclaw-dev/openclaw.json`,
    JSON.stringify({ gateway: { mode: "local", auth: { mode: "token", token: TOKEN } } }),
  );
  const port = freePort();
  const proc = spawnRunner(["--dev", "gateway", "--port", String(port)], runnerEnv(home), {
    entry,
    denoFlags: entry ? [...BUNDLE_RUN_FLAGS] : [],
  });
  try {
    await untilHealthy(`http://127.0.0.1:${port}/health`);
    const connection = await connectGateway({
      url: `ws://127.0.0.1:${port}`,
      WebSocket,
      client: { id: "cli", mode: "cli", version: "bench", platform: Deno.build.os },
      token: TOKEN,
      scopes: ["operator.read"],
    });
    connection.close();
    await settle();
    const soon = sample(proc.child.pid);
    if (!later) return [soon];
    await new Promise((r) => setTimeout(r, LATER_S * 1000 - 1000));
    return [soon, sample(proc.child.pid)];
  } finally {
    await proc.stop("SIGTERM");
    await Deno.remove(home, { recursive: true });
  }
}

/** A bare `Deno.serve` answering 200, after `imports` (import lines, run through the repo's import map). */
async function floor(dir: string, imports: string): Promise<Sample[]> {
  const file = `${dir}/floor-${crypto.randomUUID()}.ts`;
  await Deno.writeTextFile(
    file,
    `${imports}\nDeno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[0]), onListen() {} }, () => new Response("ok"));\n`,
  );
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, file, String(port)],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await untilHealthy(`http://127.0.0.1:${port}/`);
    await settle();
    return [sample(child.pid)];
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

const GATEWAY_RUN = new URL("../runner/commands/gateway-run.ts", import.meta.url).href;

const ZOD = `import { z } from "zod";\nz.object({ a: z.string() }).parse({ a: "x" });`;
const dir = await Deno.makeTempDir();
const targets: [string, () => Promise<Sample[]>][] = [
  ["bare Deno.serve", () => floor(dir, "")],
  ["+ zod (npm)", () => floor(dir, ZOD)],
  ["+ zod + node:path", () => floor(dir, `${ZOD}\nimport { join } from "node:path";\njoin("a");`)],
  [
    "+ zod + node:fs/promises",
    () => floor(dir, `${ZOD}\nimport { stat } from "node:fs/promises";\nawait stat(".");`),
  ],
  [
    "+ the runner's gateway modules imported, not run",
    () => floor(dir, `await import(${JSON.stringify(GATEWAY_RUN)});`),
  ],
];
const bundled = await buildRunner(`${dir}/bundle`);
/** Runners, each sampled 1 s after its `hello-ok` and (unless `false`) `LATER_S` seconds after it. */
const runners: [string, () => Promise<Sample[]>][] = [
  ["runner", () => runner()],
  ["bundled runner", () => runner(bundled)],
];
// Warm-up: fills the V8 code cache of each, as every later start of the same files finds it.
await runner(undefined, false);
await runner(bundled, false);
const samples = new Map<string, Sample[]>();
const record = (name: string, value: Sample) => samples.set(name, [...samples.get(name) ?? [], value]);
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of targets) record(name, (await run())[0]);
  for (const [name, run] of runners) {
    const [soon, later] = await run();
    record(`${name}, 1 s after one hello-ok`, soon);
    record(`${name}, ${LATER_S} s after one hello-ok`, later);
  }
}
await Deno.remove(dir, { recursive: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`Idle RSS (MiB), median of ${ROUNDS} rounds\n`);
console.log("| process | RSS | anonymous | file pages | of which the deno binary |");
console.log("| --- | --- | --- | --- | --- |");
for (const [name, rows] of samples) {
  const cell = (key: keyof Sample) => median(rows.map((r) => r[key])).toFixed(1);
  console.log(`| ${name} | ${cell("rss")} | ${cell("anon")} | ${cell("file")} | ${cell("binary")} |`);
}
