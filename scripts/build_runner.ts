/**
 * Builds the runner as one minified, code-split bundle (`dist/` by default): the form the installed CLI
 * and the OS service run, needing no `deno.json` or `node_modules` at run time. It idles in less memory
 * than the TypeScript sources (bench/idle_rss.ts) because of how the sources load, not what they run: zod
 * comes from npm whole (its locales included, with Deno's npm support) where the bundle keeps only the
 * part in use, and the runner's ~220 modules load one by one instead of as minified chunks. Emit and
 * inline source maps are not the cost: bench/sources_rss.ts finds the same modules as plain JavaScript
 * files keep as much memory as from TypeScript.
 *
 *   deno run -A scripts/build_runner.ts [outdir]
 *
 * The bundle runs as `deno run -A --no-config --unstable-lazy-dynamic-imports dist/main.js`
 * (`BUNDLE_RUN_FLAGS` in runner/commands/ops/host.ts), as the service and `deno task install-cli`'s shim do.
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
