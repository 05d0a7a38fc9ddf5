// Our JSON5 parser against the reference `json5` package: same values for what it accepts, an error
// (with line and column) for what it refuses.
import assert from "node:assert/strict";
import fc from "fast-check";
import JSON5 from "json5";
import { Json5SyntaxError, parseJson5 } from "../lib/config/json5.ts";

function outcome(
  parse: (text: string) => unknown,
  text: string,
): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parse(text) };
  } catch (error) {
    // Our parser must refuse with its own syntax error (line and column), never crash some other way.
    if (parse === parseJson5 && !(error instanceof Json5SyntaxError)) throw error;
    return { ok: false };
  }
}

Deno.test("parses the JSON5 features an openclaw.json uses", () => {
  const text = `// config
  {
    gateway: { port: 18789, bind: 'loopback', /* inline */ auth: { token: "a\\
b" }, },
    list: [1, .5, 5., +3, -0x1F, 1e3, Infinity, -Infinity,],
    "quoted key": 'it\\'s',
    $dollar_1: null, ünïcode: true,
  }`;
  assert.deepEqual(parseJson5(text), JSON5.parse(text));
  assert.ok(Number.isNaN(parseJson5("NaN")));
});

Deno.test("errors name the line and column", () => {
  assert.throws(() => parseJson5("{\n  a: 1,\n  b: @\n}"), (e) => {
    assert.ok(e instanceof Json5SyntaxError);
    assert.equal(e.lineNumber, 3);
    assert.equal(e.columnNumber, 6);
    return true;
  });
  for (
    const bad of [
      "{",
      "{a",
      "{a:1",
      "[1 2]",
      "[",
      "'",
      "\\",
      "'open",
      "{a:01}",
      "/* x",
      "tru",
      "{'a' 1}",
      "",
      "1 2",
    ]
  ) {
    assert.throws(() => parseJson5(bad), Json5SyntaxError, bad);
  }
});

Deno.test("__proto__ stays an ordinary key", () => {
  const value = parseJson5('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.keys(value), ["__proto__"]);
});

Deno.test("agrees with the json5 package on generated documents", () => {
  fc.assert(
    fc.property(
      fc.jsonValue(),
      fc.constantFrom<"json5" | "json" | "pretty">("json5", "json", "pretty"),
      (v, style) => {
        const text = style === "json5"
          ? JSON5.stringify(v)
          : style === "json"
          ? JSON.stringify(v)
          : `/* lead */ ${JSON5.stringify(v, null, 2).replace(/\n/g, " // c\n")}\n`;
        assert.deepEqual(parseJson5(text), JSON5.parse(text));
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("agrees with the json5 package on arbitrary text: both accept with equal values, or both refuse", () => {
  const alphabet = fc.constantFrom(..."{}[]:,'\"\\/*\n \tabxu019.+-eEINfnrtul_$".split(""));
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 24 }).map((cs) => cs.join("")), (text) => {
      const ours = outcome(parseJson5, text);
      const theirs = outcome(JSON5.parse, text);
      assert.equal(ours.ok, theirs.ok, `${JSON.stringify(text)}: ours ${ours.ok}, json5 ${theirs.ok}`);
      if (ours.ok && theirs.ok) assert.deepEqual(ours.value, theirs.value, JSON.stringify(text));
    }),
    { numRuns: 3000 },
  );
});

Deno.test("agrees with the json5 package on near-valid documents (one character inserted or removed)", () => {
  const edit = fc.tuple(
    fc.jsonValue({ maxDepth: 3 }),
    fc.nat(),
    fc.constantFrom(..."{}[]:,'\"\\/*\n ax0.+-".split("")),
    fc.boolean(),
  );
  let accepted = 0;
  fc.assert(
    fc.property(edit, ([v, at, ch, insert]) => {
      const base = JSON5.stringify(v);
      const i = at % (base.length + 1);
      const text = insert ? base.slice(0, i) + ch + base.slice(i) : base.slice(0, i) + base.slice(i + 1);
      const ours = outcome(parseJson5, text);
      const theirs = outcome(JSON5.parse, text);
      assert.equal(ours.ok, theirs.ok, `${JSON.stringify(text)}: ours ${ours.ok}, json5 ${theirs.ok}`);
      if (ours.ok && theirs.ok) {
        accepted++;
        assert.deepEqual(ours.value, theirs.value, JSON.stringify(text));
      }
    }),
    { numRuns: 3000 },
  );
  assert.ok(accepted > 100, `only ${accepted} edited documents were valid; the property would prove little`);
});
