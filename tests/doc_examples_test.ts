// The `@example`s are documentation that runs: the test task gives `deno test --doc` the whole of lib/ and
// every entry point, and no entry point's examples are all skipped (`ignore`). Audit of issue 14, item 6.
import assert from "node:assert/strict";

/** The paths the test task runs `deno test --doc` over. */
async function docTestedPaths(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const words = (config.tasks.test as string).split(/\s+/);
  return words.slice(words.indexOf("--doc") + 1).filter((word) => !word.startsWith("-"));
}

/** Every file under `dir` (relative to the repository root) whose JSDoc holds a ```ts example. */
async function filesWithExamples(dir: string): Promise<string[]> {
  const root = new URL("../", import.meta.url);
  const found: string[] = [];
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(new URL(path, root))) {
      const child = `${path}${entry.name}`;
      if (entry.isDirectory) await walk(`${child}/`);
      else if (
        child.endsWith(".ts") && /^\s*\*\s*```ts/m.test(await Deno.readTextFile(new URL(child, root)))
      ) {
        found.push(child);
      }
    }
  };
  await walk(dir);
  return found.sort();
}

Deno.test("`deno task test` runs every @example in lib/ (deno test --doc)", async () => {
  const covered = await docTestedPaths();
  const missed = (await filesWithExamples("lib/")).filter((file) =>
    !covered.some((path) => path.endsWith("/") ? file.startsWith(path) : file === path)
  );
  assert.deepEqual(missed, [], "files whose examples the test task never runs");
});

Deno.test("the examples that were outside the test task's --doc paths run", async () => {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--doc", "lib/services.ts", "lib/cluster/cluster-module.ts"],
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const output = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 0, output.split("\n").filter((line) => /FAILED|Error/.test(line)).join("\n"));
});

Deno.test("every entry point has an @example that deno test --doc runs (none `ignore`d)", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const skipped: string[] = [];
  for (const file of Object.values(config.exports as Record<string, string>)) {
    const text = await Deno.readTextFile(new URL(`../${file}`, import.meta.url));
    const fences = [...text.matchAll(/^\s*\*\s*```ts([^\n]*)$/gm)].map((m) => m[1].trim());
    if (!fences.some((attributes) => attributes === "")) skipped.push(`${file}: ${JSON.stringify(fences)}`);
  }
  assert.deepEqual(skipped, [], "entry points whose examples are never run");
});
