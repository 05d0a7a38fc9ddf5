import "./_record.ts";
/**
 * Why the runner run from its TypeScript sources (`deno run -A runner/main.ts`, README's first command) keeps
 * more memory than the bundle `deno task build` makes: the same code, loaded each way, beside a bare
 * `Deno.serve`. Each row is one process serving HTTP 1 s after its start; the difference between two rows
 * is what one way of loading costs.
 *
 *   deno run -A bench/sources_rss.ts [rounds=5] [modules=250]
 *
 * Rows: the repo's `deno.json` (config, lockfile, import map, npm resolution) on an empty program; zod
 * from npm as the sources load it (every module of the package, its 60-odd locales included), as the same
 * files outside `node_modules`, and bundled and minified as `deno task build` does (only what is used);
 * `modules` generated TypeScript modules of the runner's mean size (about 5 KB, half of it comments), from
 * their sources, as plain JavaScript files (no emit, no inline source map), and as one minified bundle.
 * Targets take turns; each row is its median round. Prints a markdown table; never asserts.
 */
import { join } from "node:path";

const ROUNDS = Number(Deno.args[0] ?? 5);
const MODULES = Number(Deno.args[1] ?? 250);
const ROOT = new URL("..", import.meta.url).pathname;
const CONFIG = join(ROOT, "deno.json");
const SERVE =
  `Deno.serve({ hostname: "127.0.0.1", port: Number(Deno.args[0]), onListen() {} }, () => new Response("ok"));\n`;

/** One generated module: a JSDoc'd function per block, each calling into the previous module. */
function generatedModule(index: number, typed: boolean): string {
  const ext = typed ? "ts" : "js";
  let text = index ? `import { f${index - 1}_0 } from "./m${index - 1}.${ext}";\n\n` : "";
  for (let k = 0; k < 8; k++) {
    const input = typed ? ": { a: string; b: number[] }" : "";
    const num = typed ? ": number" : "";
    text +=
      `/**\n * Block ${k} of module ${index}: sums the input the way a handler would, so the code is real work.\n` +
      ` * Written to be as long as an average module of the gateway, comments included.\n */\n` +
      `export function f${index}_${k}(input${input})${num} {\n  let total${num} = 0;\n` +
      `  for (const value of input.b) total += value > ${k} ? value * ${k + 1} : -input.a.length;\n` +
      `  if (total > 1e9) throw new Error(\`m${index}.f${k}: \${input.a} -> \${total}\`);\n` +
      `  return total${index ? ` + (input.b.length > 99 ? f${index - 1}_0(input) : 0)` : ""};\n}\n\n`;
  }
  return text;
}

/** Writes the generated modules and an entry importing every one of them (so a bundle keeps them all). */
async function writeModules(dir: string, typed: boolean): Promise<string> {
  const ext = typed ? "ts" : "js";
  await Deno.mkdir(dir, { recursive: true });
  for (let i = 0; i < MODULES; i++) {
    await Deno.writeTextFile(join(dir, `m${i}.${ext}`), generatedModule(i, typed));
  }
  const names = Array.from({ length: MODULES }, (_, i) => `m${i}`);
  const entry = join(dir, `entry.${ext}`);
  await Deno.writeTextFile(
    entry,
    names.map((m) => `import * as ${m} from "./${m}.${ext}";\n`).join("") +
      `(globalThis${typed ? " as unknown as { all: unknown }" : ""}).all = [${names.join(", ")}];\n` + SERVE,
  );
  return entry;
}

async function bundle(entry: string, out: string, config: string[]): Promise<string> {
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "--minify", ...config, "-o", out, entry],
    stderr: "piped",
  }).output();
  if (!success) throw new Error(new TextDecoder().decode(stderr));
  return out;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** RSS and anonymous MiB of `deno run -A <args> <file> <port>` 1 s after it first answers. */
async function sample(args: string[]): Promise<[number, number]> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args, String(port)],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  try {
    for (;;) {
      try {
        await (await fetch(`http://127.0.0.1:${port}/`)).body?.cancel();
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rollup = await Deno.readTextFile(`/proc/${child.pid}/smaps_rollup`);
    const mib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(rollup)![1]) / 1024;
    return [mib("Rss"), mib("Anonymous")];
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

const dir = await Deno.makeTempDir();
const bare = join(dir, "bare.ts");
await Deno.writeTextFile(bare, SERVE);
const zodUse = `z.object({ a: z.string() }).parse({ a: "x" });\n${SERVE}`;
const zodNpm = join(dir, "zod-npm.ts");
await Deno.writeTextFile(zodNpm, `import * as z from "zod";\n${zodUse}`);
// The package's own files, copied (symlinks resolved) where Deno loads them as plain ES modules.
await new Deno.Command("cp", { args: ["-rL", join(ROOT, "node_modules/zod"), join(dir, "zod")] }).output();
const zodFiles = join(dir, "zod-files.js");
await Deno.writeTextFile(zodFiles, `import * as z from "./zod/index.js";\n${zodUse}`);
const zodBundle = await bundle(zodNpm, join(dir, "zod-bundle.js"), ["--config", CONFIG]);
const tsEntry = await writeModules(join(dir, "ts"), true);
const jsEntry = await writeModules(join(dir, "js"), false);
const modulesBundle = await bundle(tsEntry, join(dir, "modules-bundle.js"), ["--no-config"]);

const rows: [string, string[]][] = [
  ["bare Deno.serve (--no-config)", ["--no-config", bare]],
  ["bare Deno.serve with the repo's deno.json", ["--config", CONFIG, bare]],
  ["+ zod from npm (the sources' way)", ["--config", CONFIG, zodNpm]],
  ["+ zod's files outside node_modules", ["--no-config", zodFiles]],
  ["+ zod bundled and minified (the bundle's way)", ["--no-config", zodBundle]],
  [`+ ${MODULES} TypeScript modules from sources`, ["--no-config", tsEntry]],
  [`+ the same ${MODULES} modules as plain JavaScript files`, ["--no-config", jsEntry]],
  [`+ the same ${MODULES} modules as one minified bundle`, ["--no-config", modulesBundle]],
];
// Warm-up: Deno's emit and V8's code cache are filled once, as every later start finds them.
for (const [, args] of rows) await sample(args);
const samples = new Map<string, [number, number][]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, args] of rows) samples.set(name, [...samples.get(name) ?? [], await sample(args)]);
}
await Deno.remove(dir, { recursive: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`Idle RSS (MiB) 1 s after start, median of ${ROUNDS} rounds\n`);
console.log("| process | RSS | anonymous |");
console.log("| --- | --- | --- |");
for (const [name, values] of samples) {
  console.log(
    `| ${name} | ${median(values.map((v) => v[0])).toFixed(1)} | ${
      median(values.map((v) => v[1])).toFixed(1)
    } |`,
  );
}
