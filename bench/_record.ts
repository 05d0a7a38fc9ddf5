// Imported by every bench script: with BENCH_RECORD=1 the script's printed output also becomes its section
// of bench/results/latest.md, dated and with the machine it ran on. That file is the one place README,
// bench/README.md and docs/evidence.md point to for figures, so a re-run replaces numbers instead of adding
// a contradicting copy.
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** `BENCH_RESULTS_FILE` lets a test record somewhere else. */
const RESULTS = Deno.env.get("BENCH_RESULTS_FILE") ??
  new URL("./results/latest.md", import.meta.url).pathname;
const HEADER = `# Measured figures

Every figure the README, \`bench/README.md\` and \`docs/evidence.md\` quote comes from this file. Each section
is written by its script (\`BENCH_RECORD=1 deno run -A bench/<script>.ts ...\`), which replaces only its own
section, with the date and the machine it ran on. Numbers from a busy or different machine are not
comparable: check the machine line before comparing.
`;

function readFirst(path: string, pattern: RegExp): string | undefined {
  try {
    return Deno.readTextFileSync(path).match(pattern)?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/** CPU, cores, memory, OS, runtime and load: what makes two runs comparable or not. */
export function machineFacts(): string {
  const cpu = readFirst("/proc/cpuinfo", /model name\s*:\s*(.+)/) ?? "unknown CPU";
  const memKb = Number(readFirst("/proc/meminfo", /MemTotal:\s*(\d+)/) ?? 0);
  const load = readFirst("/proc/loadavg", /^(\S+ \S+ \S+)/);
  return [
    `${navigator.hardwareConcurrency} × ${cpu}`,
    memKb ? `${(memKb / 1024 / 1024).toFixed(1)} GiB RAM` : undefined,
    `${Deno.build.os} ${Deno.osRelease()}`,
    `Deno ${Deno.version.deno}`,
    load ? `load average ${load} at the end` : undefined,
  ].filter(Boolean).join(", ");
}

/** Replaces (or appends) the section named `name` in `text`. */
export function replaceSection(text: string, name: string, body: string): string {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from !== -1 && to > from) return text.slice(0, from) + section + text.slice(to + end.length);
  return `${text.trimEnd()}\n\n${section}\n`;
}

if (Deno.env.get("BENCH_RECORD") === "1") {
  const script = basename(fileURLToPath(Deno.mainModule));
  // A script with phases (soak.ts --phase sustained|hostile) keeps one section per phase.
  const phase = Deno.args[Deno.args.indexOf("--phase") + 1];
  const name = script.replace(/\.ts$/, "") + (Deno.args.includes("--phase") && phase ? `_${phase}` : "");
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => {
    printed.push(args.map((a) => (typeof a === "string" ? a : Deno.inspect(a))).join(" "));
    log(...args);
  };
  globalThis.addEventListener("unload", () => {
    const when = new Date().toISOString().slice(0, 16).replace("T", " ");
    const command = ["deno run -A", `bench/${script}`, ...Deno.args].join(" ");
    const body = [
      `## \`${script}\``,
      "",
      `${when} UTC · \`${command}\` · ${machineFacts()}`,
      "",
      ...printed,
    ].join("\n");
    let text = HEADER;
    try {
      text = Deno.readTextFileSync(RESULTS);
    } catch { /* first recording */ }
    Deno.mkdirSync(dirname(RESULTS), { recursive: true });
    Deno.writeTextFileSync(RESULTS, replaceSection(text, name, body));
  });
}
