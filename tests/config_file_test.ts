// The config file source: JSON5, ${ENV}, $include, validation messages, atomic writes with backups.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigLoadError, loadConfig } from "../lib/config/source.ts";
import { backupPaths, writeFileAtomic } from "../runner/config/atomic-write.ts";
import { readAuthoredConfig, setPath, writeAuthoredConfig } from "../runner/config/config-writer.ts";
import { fileConfigSource } from "../runner/config/file-source.ts";
import { tempDir } from "./_helpers.ts";

async function dir(files: Record<string, string>): Promise<string> {
  const root = await Deno.realPath(await tempDir());
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(join(root, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, name), text);
  }
  return root;
}

Deno.test("JSON5 with comments and trailing commas loads; a missing file means defaults", async () => {
  const root = await dir({ "openclaw.json": "// mine\n{ gateway: { port: 1234, mode: 'local', }, }" });
  const loaded = await loadConfig(fileConfigSource(join(root, "openclaw.json"), { env: {} }));
  assert.equal(loaded.config.gateway?.port, 1234);
  assert.equal(loaded.snapshot.exists, true);
  assert.match(loaded.snapshot.hash!, /^[0-9a-f]{64}$/);
  const missing = await fileConfigSource(join(root, "nope.json"), { env: {} }).load();
  assert.deepEqual([missing.exists, missing.raw], [false, {}]);
});

Deno.test("a syntax error names the file, line and column", async () => {
  const root = await dir({ "openclaw.json": "{\n  gateway: { port: 1,, }\n}" });
  await assert.rejects(
    fileConfigSource(join(root, "openclaw.json"), { env: {} }).load(),
    (err: Error) =>
      err instanceof ConfigLoadError &&
      /openclaw\.json: JSON5 syntax error at line 2, column \d+/.test(err.message),
  );
});

Deno.test("validation errors name the dotted path and the expectation", async () => {
  const root = await dir({
    "openclaw.json": '{ gateway: { port: "eighty", reload: { mode: "sometimes" } } }',
  });
  await assert.rejects(
    loadConfig(fileConfigSource(join(root, "openclaw.json"), { env: {} })),
    (err: Error) => {
      assert.match(err.message, /^Invalid config at .*openclaw\.json: /);
      assert.match(err.message, /gateway\.port: .*number/);
      assert.match(err.message, /gateway\.reload\.mode: /);
      return true;
    },
  );
});

Deno.test("${VAR} substitution: inline, escaped, and unset vars reported with their path", async () => {
  const root = await dir({
    "openclaw.json":
      '{ gateway: { remote: { url: "${BASE}/ws", token: "${MISSING_TOKEN}" }, customBindHost: "$${BASE}" } }',
  });
  const snapshot = await fileConfigSource(join(root, "openclaw.json"), { env: { BASE: "wss://h" } }).load();
  const gateway = snapshot.raw.gateway as Record<string, Record<string, string> | string>;
  assert.equal((gateway.remote as Record<string, string>).url, "wss://h/ws");
  assert.equal((gateway.remote as Record<string, string>).token, "${MISSING_TOKEN}");
  assert.equal(gateway.customBindHost, "${BASE}");
  assert.deepEqual(snapshot.warnings, [
    "${MISSING_TOKEN} at gateway.remote.token is not set; the value is left unresolved",
  ]);
});

Deno.test("$include: single file replaces, arrays deep-merge in order, siblings win, env works inside", async () => {
  const root = await dir({
    "openclaw.json":
      '{ gateway: { $include: "./gw.json5", port: 2 }, agents: { $include: ["./a.json5", "./b.json5"] } }',
    "gw.json5": '{ port: 1, mode: "local", customBindHost: "${HOST_IP}" }',
    "a.json5": "{ defaults: { model: 'x/a', timeoutSeconds: 5 } }",
    "b.json5": "{ defaults: { model: 'x/b' } }",
  });
  const snapshot = await fileConfigSource(join(root, "openclaw.json"), { env: { HOST_IP: "10.0.0.1" } })
    .load();
  assert.deepEqual(snapshot.raw, {
    gateway: { port: 2, mode: "local", customBindHost: "10.0.0.1" },
    agents: { defaults: { model: "x/b", timeoutSeconds: 5 } },
  });
});

Deno.test("$include cycles, escapes from the config dir and missing files are clear errors", async () => {
  const root = await dir({
    "openclaw.json": '{ a: { $include: "./x.json5" } }',
    "x.json5": '{ b: { $include: "./openclaw.json" } }',
    "escape.json": '{ a: { $include: "../outside.json5" } }',
    "missing.json": '{ a: { $include: "./gone.json5" } }',
  });
  const load = (name: string, env = {}) => fileConfigSource(join(root, name), { env }).load();
  await assert.rejects(
    load("openclaw.json"),
    /circular \$include: .*openclaw\.json -> .*x\.json5 -> .*openclaw\.json/,
  );
  await assert.rejects(
    load("escape.json"),
    /outside the config directory; add its directory to OPENCLAW_INCLUDE_ROOTS/,
  );
  await assert.rejects(load("missing.json"), /\$include "\.\/gone\.json5" in .*missing\.json: /);
  const outside = join(root, "..", "outside.json5");
  await Deno.writeTextFile(outside, "{ ok: true }");
  try {
    const snapshot = await load("escape.json", { OPENCLAW_INCLUDE_ROOTS: join(root, "..") });
    assert.deepEqual(snapshot.raw, { a: { ok: true } });
  } finally {
    await Deno.remove(outside);
  }
});

Deno.test("atomic write replaces the file and rotates five backups", async () => {
  const root = await dir({});
  const path = join(root, "openclaw.json");
  for (let i = 1; i <= 7; i++) await writeFileAtomic(path, `{ "v": ${i} }`);
  assert.equal(await Deno.readTextFile(path), '{ "v": 7 }');
  const backups = await Promise.all(backupPaths(path).map((p) => Deno.readTextFile(p)));
  assert.deepEqual(backups, ['{ "v": 6 }', '{ "v": 5 }', '{ "v": 4 }', '{ "v": 3 }', '{ "v": 2 }']);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
});

Deno.test("a crash between writing and renaming leaves the old file whole", async () => {
  const root = await dir({ "openclaw.json": "// keep me\n{ gateway: { mode: 'local' } }" });
  const path = join(root, "openclaw.json");
  await assert.rejects(
    writeFileAtomic(path, "{ broken", { beforeRename: () => Promise.reject(new Error("power cut")) }),
    /power cut/,
  );
  assert.equal(await Deno.readTextFile(path), "// keep me\n{ gateway: { mode: 'local' } }");
  const names = [...Deno.readDirSync(root)].map((e) => e.name).sort();
  assert.deepEqual(names, ["openclaw.json", "openclaw.json.bak"]);
});

Deno.test("a process killed in the middle of a write leaves the old file whole", async () => {
  const root = await dir({ "openclaw.json": '{ "v": "old" }' });
  const path = join(root, "openclaw.json");
  const script = `
    import { writeFileAtomic } from ${
    JSON.stringify(new URL("../runner/config/atomic-write.ts", import.meta.url).href)
  };
    await writeFileAtomic(${JSON.stringify(path)}, JSON.stringify({ v: "x".repeat(1 << 20) }), {
      // The interval keeps the child alive: a promise that never settles alone lets Deno exit.
      beforeRename: () => { console.log("written"); return new Promise(() => setInterval(() => {}, 60_000)); },
    });`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /written/);
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  assert.equal(await Deno.readTextFile(path), '{ "v": "old" }');
  const reloaded = await fileConfigSource(path, { env: {} }).load();
  assert.deepEqual(reloaded.raw, { v: "old" });
});

Deno.test("owned writes: validated, base-hash checked, refused for $include files, rejected text kept", async () => {
  const root = await dir({
    "openclaw.json": '{ gateway: { mode: "local" } }',
    "inc.json": '{ gateway: { $include: "./openclaw.json" } }',
  });
  const path = join(root, "openclaw.json");
  const current = await readAuthoredConfig(path);
  const { hash } = await writeAuthoredConfig(current, setPath(current.value, "gateway.port", 5555), {
    baseHash: current.hash,
  });
  assert.equal(JSON.parse(await Deno.readTextFile(path)).gateway.port, 5555);
  assert.notEqual(hash, current.hash);
  await assert.rejects(
    writeAuthoredConfig(current, current.value, { baseHash: current.hash }),
    /baseHash mismatch/,
  );
  const fresh = await readAuthoredConfig(path);
  await assert.rejects(
    writeAuthoredConfig(fresh, setPath(fresh.value, "gateway.port", "x")),
    /Config write rejected: gateway\.port/,
  );
  assert.ok([...Deno.readDirSync(root)].some((e) => e.name.startsWith("openclaw.json.rejected.")));
  await assert.rejects(
    writeAuthoredConfig(await readAuthoredConfig(join(root, "inc.json")), {}),
    /uses \$include; edit the included files by hand/,
  );
});
