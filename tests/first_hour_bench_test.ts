// One source of figures: every bench script can record its output as a dated section of
// bench/results/latest.md (with the machine), and the docs point there instead of copying tables.
import assert from "node:assert/strict";
import { join } from "node:path";
import { machineFacts, replaceSection } from "../bench/_record.ts";

const root = new URL("..", import.meta.url).pathname;
const read = (path: string) => Deno.readTextFile(join(root, path));

Deno.test("a recorded section replaces the previous run of that script and leaves the others", () => {
  const one = replaceSection("# head\n", "a", "first a");
  const two = replaceSection(one, "b", "first b");
  const again = replaceSection(two, "a", "second a");
  assert.equal(
    again,
    "# head\n\n<!-- bench:a -->\nsecond a\n<!-- /bench:a -->\n\n<!-- bench:b -->\nfirst b\n<!-- /bench:b -->\n",
  );
  assert.match(machineFacts(), /^\d+ × .+, .*Deno \d+\.\d+\.\d+/);
});

Deno.test("BENCH_RECORD=1 writes the script's printed output with date, command and machine", async () => {
  const dir = await Deno.makeTempDir({ prefix: "openclaw-bench-" });
  try {
    const file = join(dir, "latest.md");
    // A stand-in bench script: the real ones print the same way (console.log) and import the same module.
    await Deno.writeTextFile(
      join(dir, "probe.ts"),
      `import ${JSON.stringify(join(root, "bench/_record.ts"))};\nconsole.log("| a | b |");\n`,
    );
    const run = (extra: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(dir, "probe.ts"), ...extra],
        env: { BENCH_RECORD: "1", BENCH_RESULTS_FILE: file },
        stdout: "null",
        stderr: "piped",
      }).output();
    assert.equal((await run(["1"])).code, 0);
    assert.equal((await run(["2"])).code, 0);
    const text = await Deno.readTextFile(file);
    assert.equal(text.match(/<!-- bench:probe -->/g)?.length, 1, "a re-run replaces its section");
    assert.match(text, /^\d{4}-\d\d-\d\d \d\d:\d\d UTC · `deno run -A bench\/probe\.ts 2` · \d+ × .*Deno/m);
    assert.match(text, /^\| a \| b \|$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every bench script records; README, bench/README and evidence point to latest.md and copy no tables", async () => {
  for await (const entry of Deno.readDir(join(root, "bench"))) {
    if (!entry.name.endsWith(".ts") || entry.name.startsWith("_")) continue;
    assert.match(await read(`bench/${entry.name}`), /^import "\.\/_record\.ts";$/m, entry.name);
  }
  const latest = await read("bench/results/latest.md");
  for (const section of latest.split("<!-- bench:").slice(1)) {
    assert.match(
      section,
      /\n\d{4}-\d\d-\d\d \d\d:\d\d UTC · `deno run -A bench\/\w+\.ts[^`]*` · .*(core|Deno)/,
    );
  }
  const figureRows =
    /^\| (cold start|idle RSS|handshake p50|health RPC\/s|chat completion p50|RSS with 1000|gateway GET \/v1\/models|loopback upstream|\d+ s )/m;
  for (const doc of ["README.md", "bench/README.md", "docs/evidence.md"]) {
    const text = await read(doc);
    assert.match(text, /results\/latest\.md/, `${doc} points to the figures`);
    assert.doesNotMatch(text, figureRows, `${doc} copies a figures table`);
  }
});
