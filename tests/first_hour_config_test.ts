// The first hour, config side: unknown keys are refused (with a suggestion) everywhere a config is read,
// keys only the reference knows load with a warning, and `config validate` fails where a start would.
import assert from "node:assert/strict";
import { join } from "node:path";
import { editDistance, findUnknownKeys, nearestKey } from "../lib/config/unknown-keys.ts";
import { runCli } from "../runner/cli/dispatch.ts";
import { commandCatalog } from "../runner/cli/command-table.ts";
import { freePort, runnerEnv, runRunner, spawnRunner, tempHome } from "./_runner_process.ts";

async function cli(home: string, argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    output: { out: (t) => out.push(t), err: (t) => err.push(t) },
    env: { HOME: home, ...env },
    osHome: home,
    shutdownSignal: new AbortController().signal,
    commands: commandCatalog({ isTerminal: false }),
    version: "test",
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const TYPOS = {
  gatway: { port: 1 },
  gateway: { mode: "local", colour: "red", auth: { tokn: "abc" } },
};

Deno.test("unknown keys are found by walking the section schemas, with the nearest known key", () => {
  assert.equal(editDistance("gatway", "gateway"), 1);
  assert.equal(editDistance("modle", "Model"), 1);
  assert.equal(nearestKey("tokn", ["mode", "token", "password"]), "token");
  assert.equal(nearestKey("colour", ["mode", "port", "bind"]), undefined);
  const report = findUnknownKeys({
    ...TYPOS,
    models: { providers: { mine: { baseUrl: "http://x", apiKye: "k" } } },
    agents: { entries: { a: { model: "openclaw", modle: "x" } } },
    gateway: { ...TYPOS.gateway, push: { enabled: true } },
    browser: { enabled: true },
  });
  assert.deepEqual(report.unknown.map(({ parentPath: _, ...rest }) => rest), [
    { parent: "(root)", key: "gatway", suggestion: "gateway" },
    { parent: "gateway", key: "colour" },
    { parent: "gateway.auth", key: "tokn", suggestion: "token" },
    { parent: "models.providers.mine", key: "apiKye", suggestion: "apiKey" },
    { parent: "agents.entries.a", key: "modle", suggestion: "model" },
  ]);
  assert.deepEqual(report.referenceOnly.sort(), ["browser", "gateway.push"]);
});

Deno.test("config validate refuses unknown keys with a suggestion and the doctor hint; reference keys warn", async () => {
  await using t = await tempHome();
  const file = join(t.state, "openclaw.json");
  await Deno.writeTextFile(file, JSON.stringify(TYPOS));
  const bad = await cli(t.home, ["config", "validate"]);
  assert.equal(bad.code, 78);
  assert.match(bad.err, /\(root\): Unrecognized key "gatway" \(did you mean "gateway"\?\)/);
  assert.match(bad.err, /gateway: Unrecognized key "colour"/);
  assert.match(bad.err, /gateway\.auth: Unrecognized key "tokn" \(did you mean "token"\?\)/);
  assert.match(bad.err, /Run `openclaw doctor --fix` to remove unknown keys/);
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      gateway: { mode: "local", auth: { token: "t0k" }, push: { enabled: false } },
      browser: {},
    }),
  );
  const shared = await cli(t.home, ["config", "validate"]);
  assert.equal(shared.code, 0, shared.err);
  assert.match(
    shared.err,
    /warning: ignored \(known to OpenClaw, not implemented by this gateway\): .*gateway\.push/,
  );
  assert.match(shared.err, /browser/);
  const set = await cli(t.home, ["config", "set", "gateway.colour", "red"]);
  assert.equal(set.code, 78);
  assert.match(set.err, /Config write rejected: gateway: Unrecognized key "colour"/);
});

Deno.test("doctor --fix removes unknown keys after keeping a backup", async () => {
  await using t = await tempHome();
  const file = join(t.state, "openclaw.json");
  const original = JSON.stringify(TYPOS);
  await Deno.writeTextFile(file, original);
  const check = await cli(t.home, ["doctor", "--json"]);
  const finding = JSON.parse(check.out).checks.find((c: { id: string }) => c.id === "config-unknown-keys");
  assert.equal(finding.status, "error");
  assert.match(finding.message, /gateway\.auth: Unrecognized key "tokn" \(did you mean "token"\?\)/);
  const fixed = await cli(t.home, ["doctor", "--fix", "--json"]);
  const done = JSON.parse(fixed.out).checks.find((c: { id: string }) => c.id === "config-unknown-keys");
  assert.equal(done.fixed, true);
  const configCheck = JSON.parse(fixed.out).checks.find((c: { id: string }) => c.id === "config");
  assert.equal(configCheck.fixed, true, "the config loads again once its unknown keys are gone");
  assert.equal(await Deno.readTextFile(`${file}.bak`), original);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(file)), { gateway: { mode: "local", auth: {} } });
  assert.equal((await cli(t.home, ["config", "validate"], { OPENCLAW_GATEWAY_TOKEN: "x" })).code, 0);
});

Deno.test("config validate fails, with the start's message, where a start fails on auth", async () => {
  await using t = await tempHome();
  const file = join(t.state, "openclaw.json");
  const cases: [unknown, RegExp][] = [
    ["${FIRST_HOUR_UNSET}", /gateway\.auth\.token refers to an unset variable \(\$\{FIRST_HOUR_UNSET\}\)/],
    [
      { source: "env", provider: "default", id: "FIRST_HOUR_MISSING" },
      /cannot resolve gateway\.auth\.token .*FIRST_HOUR_MISSING/,
    ],
    [undefined, /gateway\.auth\.mode is token but no token is configured/],
  ];
  for (const [token, message] of cases) {
    await Deno.writeTextFile(
      file,
      JSON.stringify({ gateway: { mode: "local", auth: { mode: "token", token } } }),
    );
    const validate = await runRunner(["config", "validate"], runnerEnv(t.home));
    assert.equal(validate.code, 78, validate.stderr);
    assert.match(validate.stderr, message);
    const start = await runRunner(["gateway", "--port", "0"], runnerEnv(t.home));
    assert.equal(start.code, 78);
    assert.match(start.stderr, message);
  }
});

Deno.test("a start with unknown keys exits 78; a reload that adds one keeps the last good config", async () => {
  await using t = await tempHome();
  const file = join(t.state, "openclaw.json");
  await Deno.writeTextFile(file, JSON.stringify(TYPOS));
  const refused = await runRunner(["gateway", "--port", "0"], runnerEnv(t.home));
  assert.equal(refused.code, 78);
  assert.match(refused.stderr, /Unrecognized key "gatway" \(did you mean "gateway"\?\)/);
  const port = freePort();
  const good = { gateway: { mode: "local", port, auth: { token: "first-hour-token" } } };
  await Deno.writeTextFile(file, JSON.stringify(good));
  const proc = spawnRunner(["gateway"], runnerEnv(t.home));
  try {
    await proc.waitFor(/watching config/);
    await Deno.writeTextFile(file, JSON.stringify({ ...good, gateway: { ...good.gateway, prot: 1 } }));
    await proc.waitFor(
      /config reload skipped \(invalid config\).*Unrecognized key "prot" \(did you mean "port"\?\)/,
    );
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    assert.equal(await proc.stop(), 0);
  }
});

Deno.test("keys named like Object members are unknown keys, not a crash", () => {
  const raw = JSON.parse('{"constructor": 1, "gateway": {"__proto__": {"x": 1}, "toString": "y"}}');
  const report = findUnknownKeys(raw);
  assert.deepEqual(report.unknown.map((u) => `${u.parent}.${u.key}`).sort(), [
    "(root).constructor",
    "gateway.__proto__",
    "gateway.toString",
  ]);
});

Deno.test("doctor --fix removes an unknown key under a record key that holds a dot", async () => {
  await using t = await tempHome();
  const file = join(t.state, "openclaw.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      models: { providers: { "my.llm": { baseUrl: "http://127.0.0.1:9/v1", apiKye: "k" } } },
    }),
  );
  const fixed = await cli(t.home, ["doctor", "--fix", "--json"]);
  const done = JSON.parse(fixed.out).checks.find((c: { id: string }) => c.id === "config-unknown-keys");
  assert.equal(done.fixed, true);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(file)), {
    models: { providers: { "my.llm": { baseUrl: "http://127.0.0.1:9/v1" } } },
  });
});

Deno.test("the reference's keys under a section this gateway implements in part still load (warned, not refused)", () => {
  const report = findUnknownKeys({
    tools: { profile: "coding", deny: ["exec"] },
    gateway: { tls: { enabled: false, autoGenerate: true } },
    channels: { telegram: { streaming: "partial" } },
    agents: { defaults: { tools: { deny: ["exec"] } } },
  });
  assert.deepEqual(report.unknown, []);
  assert.deepEqual(report.referenceOnly.sort(), [
    "channels.telegram.streaming",
    "gateway.tls.autoGenerate",
    "tools.profile",
  ]);
});
