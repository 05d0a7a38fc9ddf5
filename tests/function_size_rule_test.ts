// The function-size lint rule (scripts/lint_function_size.ts, run by `deno lint`): a function in lib/ or
// runner/ may have at most 60 own lines, where the lines of the functions nested in it do not count; and
// it may span at most 150 lines in all unless it returns a list (an array literal) and has no `let` of its own.
import assert from "node:assert/strict";
import { join } from "node:path";
import plugin from "../scripts/lint_function_size.ts";

const repoRoot = join(import.meta.dirname!, "..");

/** A function of exactly `lines` lines: its head, `lines - 2` statements (or `inner` in their place), `}`. */
function fn(head: string, lines: number, { indent = "", inner = "" } = {}): string {
  const innerLines = inner.split("\n").length - 1;
  const statements = Array.from({ length: lines - 2 - innerLines }, (_, i) => `${indent}  void ${i};\n`);
  return `${indent}${head} {\n${inner}${statements.join("")}${indent}}`;
}

function lint(source: string, file = "lib/sample.ts"): string[] {
  return Deno.lint.runPlugin(plugin, join(repoRoot, file), source).map((d) => `${d.id}: ${d.message}`);
}

Deno.test("a 61-line function fails, naming it and its own lines; a 60-line one passes", () => {
  assert.deepEqual(lint(fn("export function long()", 61)), [
    "house/function-size: function `long` has 61 own lines (limit 60): split it",
  ]);
  assert.deepEqual(lint(fn("export function fits()", 60)), []);
});

Deno.test("the lines of nested functions are not the outer function's own", () => {
  // 75 lines in all; the nested helper spans 15 of them, which leaves the outer function 60 of its own.
  const helper = `${fn("const helper = () =>", 15, { indent: "  " })};\n`;
  const nested = fn("export function outer()", 75, { inner: helper });
  assert.equal(nested.split("\n").length, 75);
  assert.deepEqual(lint(nested), []);
  // One line more in the outer function, outside the helper, is one too many.
  assert.deepEqual(lint(fn("export function outer()", 76, { inner: helper })), [
    "house/function-size: function `outer` has 61 own lines (limit 60): split it",
  ]);
});

Deno.test("a factory of small handlers passes; an oversized handler inside it is reported by name", () => {
  const handler = (name: string, lines: number) => `${fn(`${name}()`, lines, { indent: "    " })},\n`;
  const factory = (handlers: string) => `export function handlers() {\n  return {\n${handlers}  };\n}\n`;
  const many = Array.from({ length: 5 }, (_, i) => handler(`h${i}`, 15)).join("");
  assert.deepEqual(lint(factory(many)), []);
  assert.deepEqual(lint(factory(many + handler("big", 61))), [
    "house/function-size: function `big` has 61 own lines (limit 60): split it",
  ]);
});

Deno.test("anonymous functions are named by what they are bound or passed to", () => {
  assert.deepEqual(lint(`${fn("const arrow = () =>", 61)};\n`), [
    "house/function-size: function `arrow` has 61 own lines (limit 60): split it",
  ]);
  assert.deepEqual(lint(`class K {\n${fn("#step()", 61, { indent: "  " })}\n}\n`), [
    "house/function-size: function `#step` has 61 own lines (limit 60): split it",
  ]);
  assert.deepEqual(lint(`queueMicrotask(${fn("() =>", 61)});\n`), [
    "house/function-size: the function passed to `queueMicrotask` has 61 own lines (limit 60): split it",
  ]);
});

/**
 * A function of `lines` lines whose body is `preamble`, then three helpers of 40 lines (each well within the own-line
 * limit) and filler statements, then `ending` (its last statement).
 */
function closure(lines: number, { preamble = "", ending = "return {};" } = {}): string {
  const helpers = Array.from({ length: 3 }, (_, i) => `${fn(`  const h${i} = () =>`, 40)};\n`).join("");
  const inner = `${preamble ? `  ${preamble}\n` : ""}${helpers}`;
  const fixed = inner.split("\n").length - 1 + 3;
  const filler = Array.from({ length: lines - fixed }, (_, i) => `  void ${i};\n`).join("");
  return `export function big() {\n${inner}${filler}  ${ending}\n}\n`;
}

Deno.test("a closure spanning over 150 lines fails even when each of its functions is short", () => {
  const shared = closure(151, { preamble: "let count = 0;", ending: "return { h0, h1, h2 };" });
  assert.equal(shared.split("\n").length - 1, 151);
  assert.deepEqual(lint(shared), [
    "house/function-size: function `big` spans 151 lines (limit 150 unless it returns a list and has no " +
    "`let` of its own): split it",
  ]);
  // Without mutable state of its own it still fails: it returns no list.
  assert.equal(lint(closure(151)).length, 1);
  assert.deepEqual(lint(closure(150, { preamble: "let count = 0;" })), []);
});

Deno.test("a list factory may span over 150 lines as long as it keeps no `let` of its own", () => {
  const list = closure(170, { preamble: "const { now } = host;", ending: "return [h0, h1, h2];" });
  assert.deepEqual(lint(list), []);
  const entries = Array.from({ length: 4 }, (_, i) => `${fn(`  function h${i}()`, 40)},\n`).join("") +
    Array.from({ length: 48 }, (_, i) => `  ${i},\n`).join("");
  assert.deepEqual(lint(`export const arrow = () => [\n${entries}];\n`), []);
  // A `let` inside one of its entries is that entry's own.
  const entryWithLet = list.replace("  const h0 = () => {\n", "  const h0 = () => {\n    let x = 0;\n");
  assert.ok(entryWithLet.includes("let x"));
  assert.deepEqual(lint(entryWithLet), []);
  assert.deepEqual(lint(closure(170, { preamble: "let count = 0;", ending: "return [h0, h1, h2];" })), [
    "house/function-size: function `big` spans 170 lines (limit 150 unless it returns a list and has no " +
    "`let` of its own): split it",
  ]);
});

Deno.test("runner/ is measured; tests, benches and scripts are not", () => {
  const long = fn("export function long()", 61);
  assert.equal(lint(long, "runner/commands/sample.ts").length, 1);
  for (const file of ["tests/sample_test.ts", "bench/sample.ts", "scripts/sample.ts"]) {
    assert.deepEqual(lint(long, file), [], file);
  }
});

Deno.test("no file in lib/ or runner/ switches the rule off", async () => {
  // An ignore directive naming no rule silences every rule, this one included.
  const directive = /deno-lint-ignore(?:-file)?(?=\s|$)([^\n]*)/g;
  const found: string[] = [];
  const visit = async (dir: string) => {
    for await (const entry of Deno.readDir(join(repoRoot, dir))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await visit(path);
      else if (/\.[jt]s$/.test(entry.name)) {
        for (const [, rules] of (await Deno.readTextFile(join(repoRoot, path))).matchAll(directive)) {
          if (!rules.trim() || rules.includes("house/function-size")) found.push(path);
        }
      }
    }
  };
  await visit("lib");
  await visit("runner");
  assert.deepEqual(found, []);
});
