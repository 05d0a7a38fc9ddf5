// The config, secrets and logs commands, in-process against a temp profile and against a running gateway.
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "../runner/cli/dispatch.ts";
import { commandCatalog } from "../runner/cli/command-table.ts";
import { freePort, runnerEnv, runRunner, spawnRunner } from "./_runner_process.ts";
import { tempDir } from "./_helpers.ts";

async function cli(home: string, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    output: { out: (t) => out.push(t), err: (t) => err.push(t) },
    env: { HOME: home },
    osHome: home,
    shutdownSignal: new AbortController().signal,
    commands: commandCatalog({ isTerminal: false }),
    version: "test",
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("setup, then config set/get/unset/validate with restart hints and redaction", async () => {
  const home = await tempDir();
  const setup = await cli(home, ["setup"]);
  assert.equal(setup.code, 0);
  assert.match(setup.out, /Gateway token \(shown once/);
  assert.match((await cli(home, ["config", "get", "gateway.auth.token"])).out, /^[0-9a-f]{6}…[0-9a-f]{4}$/);
  const port = await cli(home, ["config", "set", "gateway.port", "19999"]);
  assert.deepEqual([port.code, port.out], [
    0,
    "Updated gateway.port. Restart the gateway to apply (a running gateway in hybrid mode restarts itself).",
  ]);
  assert.equal((await cli(home, ["config", "get", "gateway.port", "--json"])).out, "19999");
  assert.match(
    (await cli(home, ["config", "set", "logging.level", "debug"])).out,
    /apply without restarting/,
  );
  assert.equal((await cli(home, ["config", "set", "logging.level", "debug"])).out, "No change");
  const bad = await cli(home, ["config", "set", "gateway.port", "'high'"]);
  assert.equal(bad.code, 78);
  assert.match(bad.err, /Config write rejected: gateway\.port/);
  assert.equal((await cli(home, ["config", "unset", "logging"])).code, 0);
  const missing = await cli(home, ["config", "get", "logging.level", "--json"]);
  assert.deepEqual([missing.code, JSON.parse(missing.out)], [1, {
    error: "Config path not found: logging.level",
  }]);
  assert.equal((await cli(home, ["config", "validate"])).code, 0);
  assert.equal((await cli(home, ["config", "file"])).out, join(home, ".openclaw", "openclaw.json"));
  await Deno.writeTextFile(join(home, ".openclaw", "openclaw.json"), "{ gateway: ");
  const invalid = await cli(home, ["config", "validate", "--json"]);
  assert.equal(invalid.code, 78);
  assert.match(JSON.parse(invalid.out).error, /JSON5 syntax error/);
});

Deno.test("secrets reload and logs go through the running gateway; logs fall back to the file", async () => {
  const home = await tempDir();
  const state = join(home, ".openclaw");
  await Deno.mkdir(state, { recursive: true });
  const port = freePort();
  await Deno.writeTextFile(
    join(state, "openclaw.json"),
    JSON.stringify({
      gateway: { mode: "local", port, auth: { mode: "token", token: { source: "env", id: "GW_TOKEN" } } },
    }),
  );
  const env = runnerEnv(home, { GW_TOKEN: "first-token-0123456789" });
  const proc = spawnRunner(["gateway"], env);
  try {
    await proc.waitFor(/gateway listening/);
    const reload = await runRunner(["secrets", "reload", "--json", "--token", "first-token-0123456789"], env);
    assert.equal(reload.code, 0, reload.stderr);
    assert.deepEqual(JSON.parse(reload.stdout), { ok: true, warningCount: 0 });
    const logs = await runRunner(
      ["logs", "--limit", "50", "--json", "--token", "first-token-0123456789"],
      env,
    );
    assert.equal(logs.code, 0, logs.stderr);
    const lines = logs.stdout.split("\n").map((l) => JSON.parse(JSON.parse(l).line));
    assert.ok(lines.some((r) => r.msg === "gateway listening" && r.port === port));
    assert.ok(lines.every((r) => !JSON.stringify(r).includes("first-token-0123456789")));
  } finally {
    assert.equal(await proc.stop(), 0);
  }
  const offline = await runRunner(["logs", "--limit", "5"], env);
  assert.equal(offline.code, 0);
  assert.match(offline.stderr, /gateway unreachable .*; reading .*openclaw-\d{4}-\d\d-\d\d\.log/);
  assert.match(offline.stdout, /gateway stopped/);
});
