// The runner's gateway path runs without Deno's Node compatibility layer: its path helpers and its flag
// parser are small in-repo stand-ins, held here to what `node:path` (POSIX) and `node:util` parseArgs did.
import assert from "node:assert/strict";
import { posix } from "node:path";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { COMMON_FLAGS, type FlagTable, parseFlags } from "../runner/cli/args.ts";
import { commandCatalog } from "../runner/cli/command-table.ts";
import { CliError } from "../runner/cli/errors.ts";
import * as paths from "../runner/cli/paths.ts";

const segment = fc.constantFrom("", ".", "..", "a", "b", "dir", ".hidden", "x.json", "~");
const pathText = fc.tuple(fc.array(segment, { maxLength: 6 }), fc.constantFrom("/", "//"), fc.boolean(), fc.boolean())
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
      assert.equal(paths.relative(first, second), posix.relative(first, second), `relative ${first} ${second}`);
    }),
    { numRuns: 2000 },
  );
});

/** What `parseFlags` answered when `node:util` parseArgs did the parsing: its values, or its error line. */
function parsedByNode(args: string[], table: FlagTable, commandName: string): unknown {
  const options = Object.fromEntries(
    Object.entries({ ...COMMON_FLAGS, ...table }).map(([name, def]) => [
      name,
      { type: def.type, ...(def.short ? { short: def.short } : {}), ...(def.multiple ? { multiple: true } : {}) },
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
  const commands = [...await commandCatalog({ isTerminal: false }).all(), { path: ["shapes"], flags: shapes }];
  for (const command of commands) {
    const table = command.flags ?? {};
    const words = Object.entries({ ...COMMON_FLAGS, ...table }).flatMap(([name, def]) => [
      `--${name}`,
      `--${name}=v`,
      `--${name}=`,
      ...(def.short ? [`-${def.short}`, `-${def.short}x`, `-${def.short}h`, `-h${def.short}`, `-${def.short}-1`] : []),
    ]);
    const arg = fc.oneof(
      fc.constantFrom(...words),
      fc.constantFrom("--", "-", "-x", "--nope", "--no-color", "-hh", "-h=1", "value", "-5", "--=x", "---x", ""),
    );
    const name = `openclaw ${command.path.join(" ")}`;
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 6 }), (args) => {
        assert.deepStrictEqual(parsedHere(args, table, name), parsedByNode(args, table, name), JSON.stringify(args));
      }),
      { numRuns: 400 },
    );
  }
});
