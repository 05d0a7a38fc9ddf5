/**
 * Builds the runner as one minified, code-split bundle (`dist/` by default): the form the installed CLI
 * and the OS service run. A bundle has no comments, no inline source maps and only ASCII text, so V8
 * keeps about a third of the module text it keeps for the TypeScript sources, and Deno loads a few
 * dozen chunks instead of some 250 modules; bench/idle_rss.ts measures the difference.
 *
 *   deno run -A scripts/build_runner.ts [outdir]
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname;

/** Bundles `runner/main.ts` into `outDir` and returns the path of the bundle's entry (`<outDir>/main.js`). */
export async function buildRunner(outDir: string): Promise<string> {
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "--code-splitting", "--minify", "--keep-names"]
      .concat(["--config", `${ROOT}deno.json`, "--outdir", outDir, `${ROOT}runner/main.ts`]),
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`deno bundle failed: ${new TextDecoder().decode(stderr)}`);
  return `${outDir}/main.js`;
}

if (import.meta.main) {
  const outDir = Deno.args[0] ?? `${ROOT}dist`;
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  console.log(await buildRunner(outDir));
}
