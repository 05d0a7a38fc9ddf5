// The layer check (scripts/check_layers.ts) passes on this repository, and catches each kind of violation
// in a fixture tree written to a temporary directory.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { checkLayers, type CheckOptions, MAY_IMPORT, type Violation } from "../scripts/check_layers.ts";

const repoRoot = join(import.meta.dirname!, "..");

async function fixture(files: Record<string, string>, options?: CheckOptions): Promise<Violation[]> {
  const root = await Deno.makeTempDir({ prefix: "layers-" });
  try {
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(join(root, dirname(path)), { recursive: true });
      await Deno.writeTextFile(join(root, path), text);
    }
    return await checkLayers(root, options);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("the repository keeps its layers", async () => {
  assert.deepEqual(await checkLayers(repoRoot), []);
});

Deno.test("lib/ importing runner/ is named with file, line and specifier", async () => {
  const found = await fixture({
    "runner/config.ts": "export const x = 1;\n",
    "lib/core.ts": '// a comment\nimport { x } from "../runner/config.ts";\nexport const y = x;\n',
    "lib/deep/inner.ts": 'export const z = await import("../../runner/config.ts");\n',
  });
  assert.deepEqual(found, [
    { kind: "runner-import", file: "lib/core.ts", detail: 'line 2: imports "../runner/config.ts" (runner/)' },
    {
      kind: "runner-import",
      file: "lib/deep/inner.ts",
      detail: 'line 1: imports "../../runner/config.ts" (runner/)',
    },
  ]);
});

Deno.test("runtime APIs outside the adapters are named; comments, strings and adapters are not", async () => {
  const found = await fixture({
    "lib/core.ts": [
      'import { readFile } from "node:fs/promises";',
      "export const home = Deno.env.get('HOME');",
      "export const argv = globalThis.process.argv;",
      "export const file = Bun.file;",
      "/** Example: `Deno.serve(handler)`, process.exit(1). */",
      'export const text = "Deno.exit() in a string";',
      "export const tpl = `process.env ${readFile.name} Deno.x`;",
      "export const re = /Deno\\.[\"']/; // a regular expression with quotes",
      "export const self = { process: 1 }.process;",
      'export const onDeno = typeof Deno !== "undefined";',
    ].join("\n"),
    "lib/transports/runtime.ts": 'import { createServer } from "node:http";\nexport const s = Deno.serve;\n',
    "lib/state/json-docs-files.ts": 'import { readFile } from "node:fs/promises";\nexport { readFile };\n',
  });
  assert.deepEqual(found, [
    { kind: "runtime-api", file: "lib/core.ts", detail: 'line 1: imports "node:fs/promises"' },
    { kind: "runtime-api", file: "lib/core.ts", detail: "line 2: uses Deno" },
    { kind: "runtime-api", file: "lib/core.ts", detail: "line 3: uses process" },
    { kind: "runtime-api", file: "lib/core.ts", detail: "line 4: uses Bun" },
    { kind: "runtime-api", file: "lib/core.ts", detail: "line 10: uses Deno" },
  ]);
});

Deno.test("a package-level import cycle is named edge by edge", async () => {
  const found = await fixture({
    "lib/agents/run.ts": 'import type { Route } from "../http/route.ts";\nexport type Run = Route;\n',
    "lib/http/route.ts": 'import type { Context } from "../types.ts";\nexport type Route = Context;\n',
    "lib/types.ts": 'import type { Run } from "./agents/run.ts";\nexport type Context = { run?: Run };\n',
    "lib/log/logger.ts": 'import type { Context } from "../types.ts";\nexport type L = Context;\n',
  });
  assert.deepEqual(found, [{
    kind: "cycle",
    file: "lib/agents/run.ts",
    detail: "package cycle agents/ → http/ → types.ts → agents/: " +
      'lib/agents/run.ts:1 imports "../http/route.ts"; lib/http/route.ts:1 imports "../types.ts"; ' +
      'lib/types.ts:1 imports "./agents/run.ts"',
  }]);
});

Deno.test("a module-level cycle inside one package is named too", async () => {
  const found = await fixture({
    "lib/agents/a.ts": 'import { b } from "./b.ts";\nexport const a = () => b;\n',
    "lib/agents/b.ts": 'export { a } from "./a.ts";\nexport const b = 1;\n',
    "lib/agents/c.ts": 'import { a } from "./a.ts";\nexport const c = a;\n',
  });
  assert.deepEqual(found, [{
    kind: "cycle",
    file: "lib/agents/a.ts",
    detail:
      'module cycle lib/agents/a.ts → lib/agents/b.ts → lib/agents/a.ts: lib/agents/a.ts:1 imports "./b.ts"; ' +
      'lib/agents/b.ts:1 imports "./a.ts"',
  }]);
});

Deno.test("file names break the convention: kebab-case modules, snake_case tests, benches and scripts", async () => {
  const found = await fixture({
    "lib/good-name.ts": "",
    "lib/bad_name.ts": "",
    "runner/commands/camelCase.ts": "",
    "tests/_helper_file.ts": "",
    "tests/some_feature_test.ts": "",
    "tests/some-feature_test.ts": "",
    "tests/fixtures/any-Name.ts": "",
    "bench/_core-server.ts": "",
    "scripts/check_layers.ts": "",
  });
  assert.deepEqual(found, [
    { kind: "file-name", file: "lib/bad_name.ts", detail: "bad_name.ts is not kebab-case" },
    { kind: "file-name", file: "runner/commands/camelCase.ts", detail: "camelCase.ts is not kebab-case" },
    {
      kind: "file-name",
      file: "tests/some-feature_test.ts",
      detail: "some-feature_test.ts is not snake_case",
    },
    { kind: "file-name", file: "bench/_core-server.ts", detail: "_core-server.ts is not snake_case" },
  ]);
});

Deno.test("the repository imports only what its import table allows", async () => {
  assert.deepEqual(await checkLayers(repoRoot, { mayImport: MAY_IMPORT }), []);
});

Deno.test("an import the table does not allow is named; type-only entries admit only type imports", async () => {
  const mayImport = {
    "errors.ts": [],
    "protocol/": ["type:errors.ts"],
    "http/": ["protocol/", "transports/types.ts"],
    "http/openai/": ["http/"],
  };
  const found = await fixture({
    "lib/errors.ts": "export class E {}\n",
    "lib/protocol/frames.ts": [
      'import type { E } from "../errors.ts";',
      'import { type E as F } from "../errors.ts";',
      'import { E as G, type E as H } from "../errors.ts";',
      "export type X = E | F | H;",
      "export const g = G;",
    ].join("\n"),
    "lib/http/router.ts": [
      'import { x } from "./response.ts";',
      'import type { X } from "../protocol/frames.ts";',
      'import type { T } from "../transports/types.ts";',
      'import type { D } from "../transports/deno.ts";',
      'import { o } from "./openai/chat.ts";',
      "export const r = [x, o] as unknown as X | T | D;",
    ].join("\n"),
    "lib/http/response.ts": "export const x = 1;\n",
    "lib/http/openai/chat.ts": 'import { x } from "../response.ts";\nexport const o = x;\n',
    "lib/transports/types.ts": "export type T = 1;\n",
    "lib/transports/deno.ts": 'import { E } from "../errors.ts";\nexport type D = E;\n',
  }, { mayImport });
  assert.deepEqual(found, [
    {
      kind: "layer",
      file: "lib/http/router.ts",
      detail: 'line 4: imports from transports/deno.ts ("../transports/deno.ts")',
    },
    {
      kind: "layer",
      file: "lib/http/router.ts",
      detail: 'line 5: imports from http/openai/ ("./openai/chat.ts")',
    },
    {
      kind: "layer",
      file: "lib/protocol/frames.ts",
      detail: 'line 3: imports a value from errors.ts ("../errors.ts")',
    },
  ]);
});
