// The function-size lint rule (scripts/lint_function_size.ts, run by `deno lint`): a function in lib/ or
// runner/ may have at most 60 own lines, where the lines of the functions nested in it do not count.
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
  const many = Array.from({ length: 5 }, (_, i) => handler(`h${i}`, 30)).join("");
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
