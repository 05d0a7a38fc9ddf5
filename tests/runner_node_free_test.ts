// The runner's gateway path runs without Deno's Node compatibility layer: its path helpers and its flag
// parser are small in-repo stand-ins, held here to what `node:path` (POSIX) and `node:util` parseArgs did,
// and the file-backed stores reach the disk through a seam whose Deno side behaves as its node:fs side.
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { posix } from "node:path";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { COMMON_FLAGS, type FlagTable, parseFlags } from "../runner/cli/args.ts";
import { commandCatalog } from "../runner/cli/command-table.ts";
import { CliError } from "../runner/cli/errors.ts";
import { homeDir } from "../runner/cli/home-dir.ts";
import * as paths from "../runner/cli/paths.ts";
import { denoStoreFiles } from "../runner/gateway/deno-store-files.ts";
import { JsonlSessionLog, JsonlTranscriptLog } from "../lib/state/jsonl-logs.ts";
import { jsonDocsOnFiles } from "../lib/state/json-docs.ts";
import { nodeStoreFiles } from "../lib/state/node-store-files.ts";
import type { StoreFiles } from "../lib/state/store-files.ts";
import { sessionsContract } from "./contract/_sessions.ts";
import { transcriptsContract } from "./contract/_transcripts.ts";
import { tempDir } from "./_helpers.ts";

const segment = fc.constantFrom("", ".", "..", "a", "b", "dir", ".hidden", "x.json", "~");
const pathText = fc.tuple(
  fc.array(segment, { maxLength: 6 }),
  fc.constantFrom("/", "//"),
  fc.boolean(),
  fc.boolean(),
)
  .map(([parts, separator, lead, trail]) => `${lead ? "/" : ""}${parts.join(separator)}${trail ? "/" : ""}`);

Deno.test("runner paths: join, resolve, dirname, basename, relative, isAbsolute, normalize match node:path (POSIX)", () => {
  fc.assert(
    fc.property(fc.array(pathText, { minLength: 1, maxLength: 4 }), (parts) => {
      assert.equal(paths.join(...parts), posix.join(...parts), `join ${JSON.stringify(parts)}`);
      assert.equal(paths.resolve(...parts), posix.resolve(...parts), `resolve ${JSON.stringify(parts)}`);
      const [first, second = "x"] = parts;
      assert.equal(paths.normalize(first), posix.normalize(first), `normalize ${first}`);
      assert.equal(paths.dirname(first), posix.dirname(first), `dirname ${first}`);
      assert.equal(paths.basename(first), posix.basename(first), `basename ${first}`);
      assert.equal(paths.isAbsolute(first), posix.isAbsolute(first), first);
      assert.equal(
        paths.relative(first, second),
        posix.relative(first, second),
        `relative ${first} ${second}`,
      );
    }),
    { numRuns: 2000 },
  );
});

/** What `parseFlags` answered when `node:util` parseArgs did the parsing: its values, or its error line. */
function parsedByNode(args: string[], table: FlagTable, commandName: string): unknown {
  const options = Object.fromEntries(
    Object.entries({ ...COMMON_FLAGS, ...table }).map(([name, def]) => [
      name,
      {
        type: def.type,
        ...(def.short ? { short: def.short } : {}),
        ...(def.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { flags: values, positionals };
  } catch (err) {
    const message = (err as Error).message;
    const unknown = message.match(/Unknown option '([^']+)'/);
    const missing = message.match(/Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/);
    const valued = message.match(/Option '(?:-\w, )?(--[\w-]+)[^']*' does not take an argument/);
    const problem = unknown
      ? `unknown option "${unknown[1]}"`
      : missing
      ? `option "${missing[1]}" needs a value`
      : valued
      ? `option "${valued[1]}" takes no value`
      : message.split("\n")[0].replace(/\.$/, "");
    return `${problem}. Try: ${commandName} --help`;
  }
}

function parsedHere(args: string[], table: FlagTable, commandName: string): unknown {
  try {
    return parseFlags(args, table, commandName);
  } catch (err) {
    assert.ok(err instanceof CliError);
    return err.message;
  }
}

Deno.test("runner flags: every command's flag table parses argv as node:util parseArgs did", async () => {
  // Beside the real tables, one with the shapes no command uses yet: short string flags and repeats.
  const shapes: FlagTable = {
    port: { type: "string", short: "p", description: "" },
    verbose: { type: "boolean", short: "v", description: "" },
    tag: { type: "string", multiple: true, description: "" },
    all: { type: "boolean", multiple: true, description: "" },
  };
  const commands = [...await commandCatalog({ isTerminal: false }).all(), {
    path: ["shapes"],
    flags: shapes,
  }];
  for (const command of commands) {
    const table = command.flags ?? {};
    const words = Object.entries({ ...COMMON_FLAGS, ...table }).flatMap(([name, def]) => [
      `--${name}`,
      `--${name}=v`,
      `--${name}=`,
      ...(def.short
        ? [`-${def.short}`, `-${def.short}x`, `-${def.short}h`, `-h${def.short}`, `-${def.short}-1`]
        : []),
    ]);
    const arg = fc.oneof(
      fc.constantFrom(...words),
      fc.constantFrom(
        "--",
        "-",
        "-x",
        "--nope",
        "--no-color",
        "-hh",
        "-h=1",
        "value",
        "-5",
        "--=x",
        "---x",
        "",
      ),
    );
    const name = `openclaw ${command.path.join(" ")}`;
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 6 }), (args) => {
        assert.deepStrictEqual(
          parsedHere(args, table, name),
          parsedByNode(args, table, name),
          JSON.stringify(args),
        );
      }),
      { numRuns: 400 },
    );
  }
});

sessionsContract(
  "jsonl on Deno files",
  async () => new JsonlSessionLog(await tempDir("openclaw-sessions-"), denoStoreFiles),
);
transcriptsContract(
  "jsonl on Deno files",
  async () => new JsonlTranscriptLog(await tempDir("openclaw-transcripts-"), denoStoreFiles),
);

/** What one StoreFiles implementation does with a fresh dir: results, errors by class, modes. */
async function storeFilesTrace(files: StoreFiles): Promise<unknown[]> {
  const dir = await tempDir("openclaw-store-files-");
  const trace: unknown[] = [];
  const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
  const attempt = async (step: () => Promise<unknown>) => {
    try {
      trace.push(await step() ?? "ok");
    } catch (error) {
      trace.push(
        error instanceof Deno.errors.AlreadyExists || (error as { code?: string }).code === "EEXIST"
          ? "exists"
          : String(error),
      );
    }
  };
  try {
    const file = `${dir}/a/b/log.jsonl`;
    await attempt(() => files.readText(file).then((text) => text ?? "missing"));
    await attempt(() => files.writeSynced(file, "one\n", "append"));
    await attempt(() => files.writeSynced(file, "\u{feff}two\n", "append"));
    await attempt(() => files.readText(file));
    trace.push(await mode(`${dir}/a`), await mode(`${dir}/a/b`), await mode(file));
    await attempt(() => files.writeSynced(file, "three\n", "create-new"));
    await attempt(() => files.writeSynced(`${dir}/c/new.json`, "{}", "create-new"));
    trace.push(await mode(`${dir}/c/new.json`));
    await attempt(() => files.rename(`${dir}/c/new.json`, file));
    await attempt(() => files.readText(file));
    await attempt(() => files.remove(file));
    await attempt(() => files.remove(file));
    await attempt(() => files.readText(file).then((text) => text ?? "missing"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return trace;
}

Deno.test("store files: the Deno implementation behaves as the node:fs one (0600 files, 0700 folders, fsync'd)", async () => {
  const umask = Deno.umask(0o022);
  try {
    const node = await storeFilesTrace(nodeStoreFiles);
    assert.deepEqual(node.slice(0, 7), ["missing", "ok", "ok", "one\n\u{feff}two\n", 0o700, 0o700, 0o600]);
    assert.deepEqual(await storeFilesTrace(denoStoreFiles), node);
  } finally {
    Deno.umask(umask);
  }
});

Deno.test("JSON documents on Deno files: atomic replace, unparseable or missing reads as none", async () => {
  const root = await tempDir("openclaw-docs-");
  try {
    const docs = jsonDocsOnFiles(root, denoStoreFiles);
    assert.equal(await docs.read("credentials/pairing.json"), undefined);
    await docs.write("credentials/pairing.json", { a: 1 });
    await docs.write("credentials/pairing.json", { a: 2 });
    assert.deepEqual(await docs.read("credentials/pairing.json"), { a: 2 });
    assert.deepEqual([...Deno.readDirSync(`${root}/credentials`)].map((e) => e.name), ["pairing.json"]);
    assert.equal(Deno.statSync(`${root}/credentials/pairing.json`).mode! & 0o777, 0o600);
    await Deno.writeTextFile(`${root}/credentials/pairing.json`, "{ torn");
    assert.equal(await docs.read("credentials/pairing.json"), undefined);
    await assert.rejects(docs.write("../escape.json", {}), /unsafe state document path/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the runner's entry loads no node: module before a command runs", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../runner/main.ts", import.meta.url).pathname],
    stdout: "piped",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: { isDynamic?: boolean; code?: { specifier: string } }[] }[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const loaded = new Set(info.roots);
  for (const specifier of loaded) {
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (!dependency.isDynamic && dependency.code) loaded.add(dependency.code.specifier);
    }
  }
  assert.ok([...loaded].some((s) => s.endsWith("/runner/cli/dispatch.ts")), "the graph was read");
  assert.deepEqual([...loaded].filter((s) => s.startsWith("node:")), []);
});

Deno.test("runner home dir: as node:os homedir() finds it, with HOME set and without", () => {
  const home = Deno.env.get("HOME");
  try {
    Deno.env.set("HOME", "/somewhere/else");
    assert.equal(homeDir(), "/somewhere/else");
    assert.equal(homeDir(), homedir());
    Deno.env.delete("HOME");
    assert.equal(homeDir(), homedir(), "the passwd entry");
  } finally {
    if (home === undefined) Deno.env.delete("HOME");
    else Deno.env.set("HOME", home);
  }
});
