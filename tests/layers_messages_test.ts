// The layer check names what it finds as written: an import that leaves lib/ for an entry point names
// that file (not a path cut short), and a runtime global read through a quoted key is still a runtime
// global. Audit of issue 14, nits.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { checkLayers, MAY_IMPORT } from "../scripts/check_layers.ts";

async function checkTree(files: Record<string, string>) {
  const root = await Deno.makeTempDir({ prefix: "layers-messages-" });
  try {
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(join(root, dirname(path)), { recursive: true });
      await Deno.writeTextFile(join(root, path), text);
    }
    return await checkLayers(root, { mayImport: MAY_IMPORT });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("an import from lib/ to a file outside it names that file, once per rule", async () => {
  const found = await checkTree({
    "mod.ts": "export const m = 1;\n",
    "runner/command.ts": "export const c = 1;\n",
    "lib/errors.ts": [
      'import { m } from "../mod.ts";',
      'import { c } from "../runner/command.ts";',
      "export const e = [m, c];",
    ].join("\n"),
  });
  assert.deepEqual(found, [
    {
      kind: "runner-import",
      file: "lib/errors.ts",
      detail: 'line 2: imports "../runner/command.ts" (runner/)',
    },
    { kind: "layer", file: "lib/errors.ts", detail: 'line 1: imports mod.ts, outside lib/ ("../mod.ts")' },
  ]);
});

Deno.test("a runtime global read through a quoted key is named", async () => {
  const found = await checkTree({
    "lib/errors.ts": [
      'export const deno = globalThis["Deno"];',
      "export const env = globalThis?.['process'];",
      'export const key = { globalThis: "Deno" };',
      'export const other = globalThis["fetch"];',
    ].join("\n"),
  });
  assert.deepEqual(found, [
    { kind: "runtime-api", file: "lib/errors.ts", detail: "line 1: uses Deno" },
    { kind: "runtime-api", file: "lib/errors.ts", detail: "line 2: uses process" },
  ]);
});
