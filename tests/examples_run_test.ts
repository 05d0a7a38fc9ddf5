// Every example must run: the Deno embed, the Node embed (under Node itself and under Deno), the test one.
import assert from "node:assert/strict";

async function run(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const out = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, out };
}

Deno.test("examples/deno_embed.ts calls an app method over a real socket", async () => {
  const { code, out } = await run(Deno.execPath(), ["run", "-A", "examples/deno_embed.ts"]);
  assert.equal(code, 0, out);
  assert.match(out, /hello, deno/);
});

Deno.test("examples/node_embed.mts runs under Deno", async () => {
  const { code, out } = await run(Deno.execPath(), ["run", "-A", "examples/node_embed.mts"]);
  assert.equal(code, 0, out);
  assert.match(out, /ws health ok: true/);
  assert.match(out, /socket closed with 1012/);
});

Deno.test("examples/node_embed.mts runs under Node (tsx loader)", async () => {
  // tsx keeps a compile cache in the temp dir: give it one this test removes.
  const tmp = await Deno.makeTempDir({ prefix: "openclaw-tsx-" });
  const { code, out } = await run("npx", ["--yes", "tsx@4", "examples/node_embed.mts"], { TMPDIR: tmp })
    .finally(() => Deno.remove(tmp, { recursive: true }));
  assert.equal(code, 0, out);
  assert.match(out, /http \/health 200/);
  assert.match(out, /socket closed with 1012/);
});

Deno.test("examples/in_memory_test.ts passes", async () => {
  const { code, out } = await run(Deno.execPath(), ["test", "-A", "examples/in_memory_test.ts"]);
  assert.equal(code, 0, out);
});
