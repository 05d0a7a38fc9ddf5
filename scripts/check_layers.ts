/**
 * Keeps the layers honest (docs/architecture.md): the core in `lib/` never imports the runner, touches a
 * runtime global (`Deno.*`, `process`, `Bun.*`, `node:` modules) only inside its adapters, and its packages
 * (a folder under `lib/`, or one `lib/*.ts` file) import each other without cycles and only as the import
 * table ({@link MAY_IMPORT}) allows. Source file names follow the naming convention. Run by the test task
 * through tests/layers_test.ts, or alone:
 *
 *   deno run -A scripts/check_layers.ts [root]
 *
 * Imports are read from the source text with comments blanked (so a JSDoc `@example` may show `Deno.serve`),
 * which needs no module graph and works on any tree, including the test's fixtures.
 *
 * @module
 */
import { dirname, join, relative, resolve, sep } from "node:path";
import { blankSource } from "./_source_text.ts";

/** What rule a finding breaks. */
export type ViolationKind = "runner-import" | "runtime-api" | "cycle" | "file-name" | "layer";

/** One broken rule, naming the file (relative to the root, `/`-separated) and what in it breaks the rule. */
export interface Violation {
  kind: ViolationKind;
  file: string;
  detail: string;
}

/**
 * Paths under `lib/` allowed to use runtime APIs: the transports, and the few adapters that put a seam's
 * interface on the file system or the OS service manager. A folder ends in `/`.
 */
export const ADAPTERS: readonly string[] = [
  "lib/transports/",
  "lib/state/json-docs-files.ts",
  "lib/state/jsonl-stores.ts",
  "lib/state/node-store-files.ts",
  "lib/service/node-host.ts",
  "lib/ui/root-files.ts",
  "lib/methods/node-host-info.ts",
];

/**
 * Imported modules (lib/, runner/) are kebab-case; files that are run (tests, benches, scripts, examples)
 * snake_case, with a leading `_` when only their neighbours import them.
 */
export const NAME_RULES: readonly { folder: string; pattern: RegExp; rule: string }[] = [
  { folder: "lib", pattern: /^[a-z0-9]+(-[a-z0-9]+)*\.ts$/, rule: "kebab-case" },
  { folder: "runner", pattern: /^[a-z0-9]+(-[a-z0-9]+)*\.ts$/, rule: "kebab-case" },
  { folder: "tests", pattern: /^_?[a-z0-9]+(_[a-z0-9]+)*\.ts$/, rule: "snake_case" },
  { folder: "bench", pattern: /^_?[a-z0-9]+(_[a-z0-9]+)*\.ts$/, rule: "snake_case" },
  { folder: "scripts", pattern: /^_?[a-z0-9]+(_[a-z0-9]+)*\.ts$/, rule: "snake_case" },
  { folder: "examples", pattern: /^_?[a-z0-9]+(_[a-z0-9]+)*\.ts$/, rule: "snake_case" },
];

/**
 * What each package of `lib/` may import (docs/architecture.md, "The folders of lib/"): paths under `lib/`,
 * a folder ending in `/` or one file; `type:` before a path allows type-only imports of it. A file belongs to
 * the longest key that holds it, so `http/openai/` is a package of its own beside `http/`; a package without a
 * key is not checked.
 */
export const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  "errors.ts": [],
  "encoding.ts": [],
  "version.ts": [],
  "services.ts": [],
  "timeout-signal.ts": [],
  "once.ts": [],
  "net/": [],
  "log/": [],
  "protocol/": ["type:errors.ts"],
  "bus/": ["protocol/"],
  "config/": ["log/", "net/", "protocol/"],
  "client/": ["errors.ts", "protocol/"],
  "service/": ["errors.ts"],
  "providers/": ["config/", "errors.ts", "type:log/", "once.ts", "timeout-signal.ts"],
  "state/": ["bus/", "errors.ts", "net/", "type:providers/", "services.ts"],
  "cluster/": ["state/", "type:types.ts"],
  "methods/": [
    "config/",
    "errors.ts",
    "log/",
    "once.ts",
    "protocol/",
    "type:state/",
    "state/devices.ts",
    "version.ts",
  ],
  "types.ts": [
    "type:bus/",
    "type:config/",
    "type:log/",
    "type:methods/",
    "type:protocol/",
    "type:services.ts",
    "type:state/",
  ],
  "http/": ["type:log/", "protocol/", "type:types.ts"],
  "ws/": ["errors.ts", "type:log/", "protocol/", "type:types.ts"],
  "auth/": [
    "type:config/",
    "encoding.ts",
    "errors.ts",
    "http/",
    "net/",
    "protocol/",
    "type:state/",
    "state/devices.ts",
    "type:types.ts",
  ],
  "transports/": ["errors.ts", "type:log/", "protocol/", "transports/deno/", "type:ws/"],
  "transports/deno/": ["errors.ts", "type:log/", "protocol/", "transports/types.ts", "type:ws/"],
  "agents/": [
    "type:bus/",
    "config/",
    "errors.ts",
    "type:log/",
    "methods/",
    "once.ts",
    "protocol/",
    "providers/",
    "services.ts",
    "state/",
    "timeout-signal.ts",
    "type:types.ts",
  ],
  "http/openai/": [
    "agents/",
    "config/",
    "errors.ts",
    "http/",
    "type:log/",
    "once.ts",
    "protocol/",
    "providers/",
    "state/",
    "type:types.ts",
  ],
  "tools/": [
    "agents/",
    "config/",
    "http/",
    "type:log/",
    "methods/",
    "protocol/",
    "type:providers/",
    "type:types.ts",
  ],
  "nodes/": [
    "type:agents/",
    "type:bus/",
    "type:config/",
    "errors.ts",
    "type:log/",
    "methods/",
    "once.ts",
    "protocol/",
    "state/",
    "tools/",
    "type:types.ts",
  ],
  "metrics/": ["agents/", "methods/", "type:types.ts"],
  "cron/": [
    "agents/",
    "type:config/",
    "encoding.ts",
    "errors.ts",
    "type:log/",
    "methods/",
    "once.ts",
    "state/",
    "timeout-signal.ts",
    "type:types.ts",
  ],
  "ui/": ["type:config/", "http/", "methods/", "net/", "once.ts", "type:types.ts", "version.ts"],
  "channels/": [
    "agents/",
    "auth/",
    "config/",
    "errors.ts",
    "http/",
    "type:log/",
    "methods/",
    "type:metrics/",
    "protocol/",
    "type:providers/",
    "state/",
    "type:types.ts",
  ],
  "hooks/": [
    "type:agents/",
    "auth/",
    "channels/",
    "config/",
    "errors.ts",
    "http/",
    "type:log/",
    "type:metrics/",
    "state/",
    "type:types.ts",
  ],
  "gateway/": [
    "auth/",
    "bus/",
    "config/",
    "errors.ts",
    "http/",
    "log/",
    "methods/",
    "net/",
    "protocol/",
    "services.ts",
    "state/",
    "transports/types.ts",
    "type:types.ts",
    "ui/origin.ts",
    "version.ts",
    "ws/",
  ],
  "gateway.ts": ["gateway/", "protocol/", "type:ws/"],
};

/** What {@link checkLayers} checks besides the fixed rules. */
export interface CheckOptions {
  /** The import table (see {@link MAY_IMPORT}); the command line uses {@link MAY_IMPORT}, none by default. */
  mayImport?: Readonly<Record<string, readonly string[]>>;
}

/** Folders a name rule does not walk into: data, not source. */
const SKIP_DIRS = new Set(["fixtures", "results", "node_modules"]);

// A runtime global by name (`Deno.env`, `typeof Deno`, `globalThis.process`), not a property or object key.
const RUNTIME_GLOBAL = /(?<![\w$.])(?:globalThis\s*\.\s*)?(Deno|process|Bun)(?![\w$]|\s*:)/g;
// The same global read through a quoted key (`globalThis["Deno"]`), found in source whose strings are kept.
const RUNTIME_GLOBAL_KEY = /(?<![\w$.])globalThis\s*(?:\?\.\s*)?\[\s*(["'])(Deno|process|Bun)\1\s*\]/g;
const FROM_IMPORT =
  /(?<![\w$.])(?:import|export)\s+(?<type>type\s+)?(?<default>[\w$]+\s*,\s*)?(?:\{(?<names>[^}]*)\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+)\s+from\s*(["'])(?<specifier>[^"'\n]+)\4/g;
const BARE_IMPORT = /(?<![\w$.])import\s*\(?\s*(["'])(?<specifier>[^"'\n]+)\1/g;

/** One module's imports as written, with the line each is on. */
interface ImportRef {
  specifier: string;
  line: number;
  /** `import type`, or braces whose every name is marked `type`: gone once compiled. */
  typeOnly: boolean;
}

/** Checks the tree at `root` and returns every violation found, in a stable order. */
export async function checkLayers(root: string, options: CheckOptions = {}): Promise<Violation[]> {
  root = resolve(root);
  const libFiles = await listTs(join(root, "lib"));
  const imports = new Map<string, ImportRef[]>();
  const violations: Violation[] = [];
  for (const file of libFiles) {
    const source = await Deno.readTextFile(join(root, file));
    const quoted = blankSource(source, true);
    const refs = findImports(quoted);
    imports.set(file, refs);
    violations.push(
      ...runnerImports(file, refs),
      ...runtimeUses(file, source, quoted, refs),
      ...layerImports(file, refs, options.mayImport ?? {}),
    );
  }
  violations.push(
    ...cycles(imports, "package"),
    ...cycles(imports, "module"),
    ...await misnamedFiles(root),
  );
  return violations;
}

/** Every import, re-export and literal dynamic import in comment-free source. */
function findImports(code: string): ImportRef[] {
  const refs: ImportRef[] = [];
  for (const pattern of [FROM_IMPORT, BARE_IMPORT]) {
    for (const match of code.matchAll(pattern)) {
      const { type, default: named, names, specifier } = match.groups!;
      const typeOnly = type !== undefined ||
        (names !== undefined && named === undefined &&
          names.split(",").every((name) => name.trim() === "" || /^type\s/.test(name.trim())));
      refs.push({ specifier, line: lineAt(code, match.index!), typeOnly });
    }
  }
  return refs.sort((a, b) => a.line - b.line);
}

function runnerImports(file: string, refs: ImportRef[]): Violation[] {
  return refs.flatMap(({ specifier, line }) => {
    const target = resolveLocal(file, specifier);
    return target?.startsWith("runner/")
      ? [{ kind: "runner-import" as const, file, detail: `line ${line}: imports "${specifier}" (runner/)` }]
      : [];
  });
}

/** `node:` imports and runtime globals; `quoted` is `source` with comments blanked but strings kept. */
function runtimeUses(file: string, source: string, quoted: string, refs: ImportRef[]): Violation[] {
  if (ADAPTERS.some((path) => path.endsWith("/") ? file.startsWith(path) : file === path)) return [];
  const found = refs.filter((ref) => ref.specifier.startsWith("node:"))
    .map(({ specifier, line }) => ({ line, detail: `line ${line}: imports "${specifier}"` }));
  const code = blankSource(source, false);
  for (const match of code.matchAll(RUNTIME_GLOBAL)) {
    const line = lineAt(code, match.index!);
    found.push({ line, detail: `line ${line}: uses ${match[1]}` });
  }
  for (const match of quoted.matchAll(RUNTIME_GLOBAL_KEY)) {
    const line = lineAt(quoted, match.index!);
    found.push({ line, detail: `line ${line}: uses ${match[2]}` });
  }
  return found.sort((a, b) => a.line - b.line)
    .map(({ detail }) => ({ kind: "runtime-api" as const, file, detail }));
}

/** Imports of other `lib/` packages that the importing package's line in `mayImport` does not allow. */
function layerImports(
  file: string,
  refs: ImportRef[],
  mayImport: Readonly<Record<string, readonly string[]>>,
): Violation[] {
  const from = tablePackage(file, mayImport);
  if (from === undefined) return [];
  return refs.flatMap(({ specifier, line, typeOnly }) => {
    const resolved = resolveLocal(file, specifier);
    // runner/ has its own finding (runner-import); the entry points and the rest sit above lib/ too.
    if (!resolved || resolved.startsWith("runner/")) return [];
    if (!resolved.startsWith("lib/")) {
      return [{
        kind: "layer" as const,
        file,
        detail: `line ${line}: imports ${resolved}, outside lib/ ("${specifier}")`,
      }];
    }
    const target = resolved.slice("lib/".length);
    const to = tablePackage(resolved, mayImport) ?? target;
    if (to === from) return [];
    const allowed = mayImport[from].some((entry) => {
      const path = entry.replace(/^type:/, "");
      return (path === to || path === target) && (typeOnly || !entry.startsWith("type:"));
    });
    if (allowed) return [];
    const what = mayImport[from].includes(`type:${to}`) ? "a value from" : "from";
    return [{ kind: "layer" as const, file, detail: `line ${line}: imports ${what} ${to} ("${specifier}")` }];
  });
}

/** The longest key of `mayImport` holding `file` (a `lib/` path), if any. */
function tablePackage(file: string, mayImport: Readonly<Record<string, readonly string[]>>) {
  const path = file.slice("lib/".length);
  return Object.keys(mayImport)
    .filter((key) => key.endsWith("/") ? path.startsWith(key) : path === key)
    .sort((a, b) => b.length - a.length)[0];
}

/** The package a `lib/` file belongs to: its first folder under lib/, or the file itself at lib/'s top. */
function packageOf(file: string): string {
  const [, first, second] = file.split("/");
  return second === undefined ? first : `${first}/`;
}

/**
 * Import cycles between packages, or (`what` = "module") between the files of one package, since a cycle
 * across packages is already reported as theirs. One violation per cycle, naming an import for each edge.
 */
function cycles(imports: Map<string, ImportRef[]>, what: "package" | "module"): Violation[] {
  const nodeOf = what === "package" ? packageOf : (file: string) => file;
  const edges = new Map<string, Map<string, string>>();
  for (const [file, refs] of imports) {
    for (const { specifier, line } of refs) {
      const target = resolveLocal(file, specifier);
      if (!target || !imports.has(target)) continue;
      const from = nodeOf(file), to = nodeOf(target);
      if (from === to || (what === "module" && packageOf(file) !== packageOf(target))) continue;
      const out = edges.get(from) ?? edges.set(from, new Map()).get(from)!;
      if (!out.has(to)) out.set(to, `${file}:${line} imports "${specifier}"`);
    }
  }
  return stronglyConnected(edges).map((members) => {
    const cycle = shortestCycle(members[0], new Set(members), edges);
    const steps = cycle.slice(0, -1).map((node, i) => edges.get(node)!.get(cycle[i + 1])!);
    const others = members.filter((node) => !cycle.includes(node));
    const also = others.length ? ` (${others.join(", ")} also on cycles with them)` : "";
    return {
      kind: "cycle",
      file: steps[0].split(":")[0],
      detail: `${what} cycle ${cycle.join(" → ")}${also}: ${steps.join("; ")}`,
    };
  });
}

/** Tarjan's strongly connected components with more than one member, members sorted. */
function stronglyConnected(edges: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const members: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      members.push(member);
    } while (member !== node);
    if (members.length > 1) found.push(members.sort());
  };
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) visit(node);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}

/** A shortest path from `start` back to itself inside one component, by breadth-first search. */
function shortestCycle(
  start: string,
  within: Set<string>,
  edges: Map<string, Map<string, string>>,
): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const node = queue.shift()!;
    for (const next of [...edges.get(node)?.keys() ?? []].sort()) {
      if (!within.has(next)) continue;
      if (next === start) {
        const chain: string[] = [];
        for (let at = node; at !== start; at = parent.get(at)!) chain.unshift(at);
        return [start, ...chain, start];
      }
      if (!parent.has(next)) {
        parent.set(next, node);
        queue.push(next);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}

async function misnamedFiles(root: string): Promise<Violation[]> {
  const found: Violation[] = [];
  for (const { folder, pattern, rule } of NAME_RULES) {
    for (const file of await listTs(join(root, folder))) {
      const name = file.slice(file.lastIndexOf("/") + 1);
      if (!pattern.test(name)) found.push({ kind: "file-name", file, detail: `${name} is not ${rule}` });
    }
  }
  return found;
}

/** The root-relative, `/`-separated path a relative import in `file` points at, or null for a bare one. */
function resolveLocal(file: string, specifier: string): string | null {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return null;
  return join(dirname(file), specifier).split(sep).join("/");
}

/** `.ts` files under `dir`, relative to its parent (`lib/a/b.ts`), sorted; none when it does not exist. */
async function listTs(dir: string): Promise<string[]> {
  const base = dirname(dir);
  const files: string[] = [];
  const walk = async (at: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(at));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(at, entry.name);
      if (entry.isDirectory && !SKIP_DIRS.has(entry.name)) await walk(path);
      else if (entry.isFile && entry.name.endsWith(".ts")) {
        files.push(relative(base, path).split(sep).join("/"));
      }
    }
  };
  await walk(dir);
  return files.sort();
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? join(import.meta.dirname!, "..");
  const violations = await checkLayers(root, { mayImport: MAY_IMPORT });
  for (const { kind, file, detail } of violations) console.error(`${kind}: ${file}: ${detail}`);
  if (violations.length) Deno.exit(1);
  console.log("layers: ok");
}
