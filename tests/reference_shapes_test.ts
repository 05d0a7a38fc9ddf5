// The fields OpenClaw's own clients read, where a method exists on both gateways: each changed result is
// held to protocol.schema.json where it defines one, and its keys to the reference gateway's recorded
// answers (tests/fixtures/reference-read-results.json, recorded by `bench/coverage.ts --record`, and the
// /v1/responses stream of shared/spec/captures). Plus the log line format the reference's `openclaw logs`
// reads, and the close code of a protocol mismatch.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createGateway, type Gateway, type GatewayConfig } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { gatewayModules } from "../runner/gateway/modules.ts";
import { JsonlFileSink } from "../runner/log/file-sink.ts";
import { formatPretty, readLogLine } from "../lib/log/logger.ts";
import { REFERENCE_DIR, REFERENCE_NODE, referenceBlocked } from "../bench/_targets.ts";
import { client, connect, connectParams, startGateway, type TestClient, TOKEN } from "./_helpers.ts";
import { keyPaths } from "./_key_paths.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";
import { freePort, runnerEnv, spawnRunner } from "./_runner_process.ts";
import { startFakeUpstream } from "./_upstream.ts";

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const reference = JSON.parse(await Deno.readTextFile(fixture("reference-read-results.json"))) as {
  hello: Record<string, unknown>;
  results: Record<string, unknown>;
};
const referenceStream = JSON.parse(await Deno.readTextFile(fixture("reference-responses-stream.json"))) as {
  events: Record<string, Record<string, unknown>>;
};

/** Asserts both the reference's answer and ours have every one of `paths`. */
function assertKeys(what: string, ours: unknown, theirs: unknown, paths: string[]): void {
  const mine = keyPaths(ours);
  const recorded = keyPaths(theirs);
  for (const path of paths) {
    assert.ok(
      recorded.has(path),
      `${what}: the reference's capture has ${path} (the list is stale otherwise)`,
    );
    assert.ok(mine.has(path), `${what}: we send ${path}, as the reference does`);
  }
}

/** The runner's modules over a config file that `$include`s its models section, on a real transport. */
async function runnerGateway(): Promise<{ gateway: Gateway; c: TestClient } & AsyncDisposable> {
  const upstream = startFakeUpstream();
  const dir = await Deno.makeTempDir({ prefix: "openclaw-shapes-" });
  const configPath = join(dir, "openclaw.json");
  const models = {
    providers: {
      up: {
        baseUrl: upstream.url,
        apiKey: "up-key",
        api: "openai-completions",
        models: [{ id: "m1", name: "m1" }],
      },
    },
  };
  const main = {
    gateway: {
      mode: "local",
      auth: { mode: "token", token: TOKEN },
      http: { endpoints: { chatCompletions: { enabled: true }, responses: { enabled: true } } },
    },
    agents: { defaults: { model: { primary: "up/m1" } } },
  };
  await Deno.writeTextFile(join(dir, "models.json"), JSON.stringify(models));
  await Deno.writeTextFile(configPath, JSON.stringify({ ...main, models: { $include: "./models.json" } }));
  const gateway = createGateway({
    config: { ...main, models } as GatewayConfig,
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    logLevel: "warn",
    modules: gatewayModules({ configPath }),
  });
  await gateway.start();
  const c = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
  return {
    gateway,
    c,
    async [Symbol.asyncDispose]() {
      c.socket.close();
      await gateway.stop();
      await upstream.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function payload(c: TestClient, method: string, params: Record<string, unknown> = {}) {
  const response = await c.request(method, params);
  assert.equal(response.ok, true, `${method}: ${JSON.stringify(response.error)}`);
  return response.payload as Record<string, unknown>;
}

Deno.test({
  name:
    "health, status, models.list, config.get, chat.history and hello-ok carry the fields the reference's clients read",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using g = await runnerGateway();
    const { c } = g;
    const sent = await payload(c, "chat.send", {
      sessionKey: "main",
      message: "hello",
      idempotencyKey: "shape-1",
    });
    await payload(c, "agent.wait", { runId: sent.runId, timeoutMs: 10_000 });
    // The event-loop monitor reports once a full window (a second) has passed.
    await new Promise((resolve) => setTimeout(resolve, 1_200));

    const health = await payload(c, "health");
    const hello = (await client(g.gateway, connectParams({ scopes: ["operator.admin"] }))).hello;
    assertMatchesSchema("HelloOk", hello);
    assertMatchesSchema("HelloOk", { ...hello, snapshot: { ...hello.snapshot as object, health } });
    const loop = [
      "degraded",
      "degradedSinceMs",
      "reasons",
      "intervalMs",
      "delayP99Ms",
      "delayMaxMs",
      "utilization",
      "cpuCoreRatio",
    ].map((k) => `eventLoop.${k}`);
    const sessions = (prefix: string) =>
      ["path", "count", "recent", "recent[].key", "recent[].updatedAt", "recent[].age"]
        .map((k) => `${prefix}.${k}`);
    assertKeys("health", health, reference.results.health, [
      "defaultAgentId",
      "agents",
      "agents[].agentId",
      "agents[].isDefault",
      ...sessions("agents[].sessions"),
      ...sessions("sessions"),
      ...loop,
      "plugins.loaded",
      "plugins.errors",
      "plugins.unavailable",
    ]);
    assert.equal(health.defaultAgentId, "main");
    const rows = health.agents as {
      agentId: string;
      sessions: { count: number; recent: { key: string }[] };
    }[];
    assert.deepEqual(rows.map((r) => [r.agentId, r.sessions.count, r.sessions.recent[0].key]), [[
      "main",
      1,
      "agent:main:main",
    ]]);
    const eventLoop = health.eventLoop as { intervalMs: number; delayP99Ms: number; cpuCoreRatio: number };
    assert.ok(eventLoop.intervalMs >= 1_000 && eventLoop.delayP99Ms >= 0 && eventLoop.cpuCoreRatio >= 0);

    assertKeys("hello-ok", hello, reference.hello, [
      "server.buildId",
      "server.controlUiBuildSource",
      "features.capabilities",
      ...[
        "defaultAgentId",
        "modelConfigured",
        "ownership",
        "selectionRequired",
        "mainKey",
        "mainSessionKey",
        "scope",
      ]
        .map((k) => `snapshot.sessionDefaults.${k}`),
    ]);
    const defaults = (hello.snapshot as { sessionDefaults: Record<string, unknown> }).sessionDefaults;
    assert.deepEqual(defaults, (reference.hello.snapshot as { sessionDefaults: unknown }).sessionDefaults);
    assert.equal((hello.server as { controlUiBuildSource: string }).controlUiBuildSource, "bundled");

    const status = await payload(c, "status");
    assertKeys("status", status, reference.results.status, [
      "sessions.paths",
      "sessions.count",
      "sessions.defaults.model",
      ...["agentId", "key", "kind", "sessionId", "updatedAt", "age", "model"].map((k) =>
        `sessions.recent[].${k}`
      ),
      "sessions.byAgent[].agentId",
      "sessions.byAgent[].path",
      "sessions.byAgent[].count",
      "sessions.byAgent[].recent",
      ...["agentId", "key", "kind", "sessionId", "updatedAt", "age", "model"].map((k) =>
        `sessions.byAgent[].recent[].${k}`
      ),
      ...loop,
    ]);
    assert.equal((status.sessions as { defaults: { model: string } }).defaults.model, "m1");

    const models = await payload(c, "models.list");
    assertMatchesSchema("ModelsListResult", models);
    assertKeys("models.list", models, reference.results["models.list"], [
      "models[].reasoning",
      "models[].available",
    ]);
    const m1 = (models.models as Record<string, unknown>[]).find((m) => m.id === "m1");
    assert.deepEqual([m1?.reasoning, m1?.available], [false, true]);

    const config = await payload(c, "config.get");
    assertKeys("config.get", config, reference.results["config.get"], ["includedPaths", "appliedConfigHash"]);
    assert.deepEqual((config.includedPaths as string[]).map((p) => p.split("/").at(-1)), ["models.json"]);
    assert.equal(
      config.appliedConfigHash,
      config.configRevisionHash,
      "the document on disk is the one running",
    );

    const history = await payload(c, "chat.history", { sessionKey: "main" });
    assertKeys("chat.history", history, reference.results["chat.history"], [
      "messages[].provider",
      "messages[].model",
      "messages[].usage",
      "messages[].usage.input",
      "messages[].usage.output",
      "messages[].usage.totalTokens",
      "messages[].stopReason",
    ]);
    const byRole = (h: unknown, role: string) =>
      (h as { messages: Record<string, unknown>[] }).messages.find((m) => m.role === role)!;
    assert.equal(
      typeof byRole(history, "user").content,
      typeof byRole(reference.results["chat.history"], "user").content,
    );
    assert.equal(byRole(history, "user").content, "hello");
    const assistant = byRole(history, "assistant");
    assert.deepEqual(
      [assistant.provider, assistant.model, assistant.stopReason, assistant.usage],
      ["up", "m1", "stop", { input: 5, output: 3, totalTokens: 8 }],
    );
  },
});

Deno.test("config.get: an edit on disk not applied yet has another appliedConfigHash than its revision", async () => {
  await using g = await runnerGateway();
  const before = await payload(g.c, "config.get");
  const configPath = before.path as string;
  const text = await Deno.readTextFile(configPath);
  await Deno.writeTextFile(configPath, text.replace('"mode":"local"', '"mode":"local","port":19999'));
  const after = await payload(g.c, "config.get");
  assert.notEqual(after.configRevisionHash, before.configRevisionHash);
  assert.equal(after.appliedConfigHash, before.appliedConfigHash, "the running config did not change");
  assert.notEqual(after.appliedConfigHash, after.configRevisionHash);
});

Deno.test("/v1/responses: phase on finished message items and cache_write_tokens in usage, streamed or not", async () => {
  await using g = await runnerGateway();
  const post = (stream: boolean) =>
    g.gateway.fetch(
      new Request("http://127.0.0.1/v1/responses", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "openclaw", input: "hello", stream }),
      }),
      { remoteAddress: "127.0.0.1" },
    );
  const whole = await (await post(false)).json();
  const completed = referenceStream.events["response.completed"].response;
  assertKeys("/v1/responses", whole, completed, [
    "output[].phase",
    "usage.input_tokens_details.cache_write_tokens",
  ]);
  assert.equal(whole.output[0].phase, "final_answer");

  const events = new Map<string, Record<string, unknown>>();
  for (const block of (await (await post(true)).text()).split("\n\n")) {
    const event = block.match(/^event: (.+)$/m)?.[1];
    const data = block.match(/^data: (\{.*\})$/m)?.[1];
    if (event && data && !events.has(event)) events.set(event, JSON.parse(data));
  }
  for (const name of ["response.output_item.done", "response.completed"]) {
    assertKeys(name, events.get(name), referenceStream.events[name], [
      ...keyPaths(referenceStream.events[name]),
    ]);
  }
  const done = events.get("response.output_item.done") as { item: { phase: string } };
  assert.equal(done.item.phase, "final_answer");
});

/** The reference's rules for a file log line (its `parseLogLine`): what `openclaw logs` prints. */
function referenceParse(raw: string) {
  const line = JSON.parse(raw);
  const meta = line._meta ?? {};
  const numbered = Object.keys(line).filter((k) => /^\d+$/.test(k)).map((k) => String(line[k])).join(" ");
  return {
    time: typeof line.time === "string" ? line.time : meta.date,
    level: String(meta.logLevelName ?? line.level ?? "").toLowerCase(),
    subsystem: line.subsystem,
    message: typeof line.message === "string" ? line.message : numbered,
  };
}

Deno.test("log lines the runner writes parse with the reference's format rules, message included", async () => {
  const dir = await Deno.makeTempDir({ prefix: "openclaw-log-line-" });
  try {
    const sink = new JsonlFileSink({ dir, profile: "default", level: "info" });
    sink.write({
      time: "2026-11-29T10:00:00.000Z",
      level: "warn",
      subsystem: "ws",
      msg: "client refused",
      connId: "c1",
    });
    sink.close();
    const [raw] = (await Deno.readTextFile(sink.path)).trim().split("\n");
    assert.deepEqual(referenceParse(raw), {
      time: "2026-11-29T10:00:00.000Z",
      level: "warn",
      subsystem: "ws",
      message: "client refused",
    });
    // This gateway's own readers (`openclaw logs`, the Control UI) read the record back, once.
    const record = readLogLine(raw)!;
    assert.deepEqual(record, {
      time: "2026-11-29T10:00:00.000Z",
      level: "warn",
      subsystem: "ws",
      msg: "client refused",
      connId: "c1",
    });
    assert.equal(formatPretty(record), "10:00:00.000 WARN  [ws] client refused connId=c1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("logs.tail lines (in memory too) carry the message where the reference reads it", async () => {
  const gateway = await startGateway({ logLevel: "info" });
  try {
    const c = await client(gateway);
    const tail = await payload(c, "logs.tail");
    const lines = tail.lines as string[];
    assert.ok(lines.length > 0);
    for (const line of lines) assert.equal(referenceParse(line).message, JSON.parse(line).msg);
  } finally {
    await gateway.stop();
  }
});

const blocked = referenceBlocked();
Deno.test({
  name: blocked
    ? `the reference openclaw logs prints our messages (skipped: ${blocked})`
    : "the reference openclaw logs prints our messages, not raw JSON",
  ignore: blocked !== undefined,
  async fn() {
    const home = await Deno.makeTempDir();
    const refHome = await Deno.makeTempDir();
    const port = freePort();
    const gateway = spawnRunner(["--dev", "gateway", "--port", String(port)], runnerEnv(home));
    try {
      const tokenLine = await gateway.waitFor(/Gateway token .*: [0-9a-f]+/, 30_000);
      const token = tokenLine.split(": ").at(-1)!;
      await gateway.waitFor(/gateway listening/, 30_000);
      const output = await new Deno.Command(REFERENCE_NODE, {
        args: [
          join(REFERENCE_DIR, "node_modules/openclaw/openclaw.mjs"),
          "logs",
          "--plain",
          "--utc",
          "--limit",
          "20",
          "--url",
          `ws://127.0.0.1:${port}`,
          "--token",
          token,
        ],
        env: { HOME: refHome, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(output.stdout);
      assert.equal(output.code, 0, text + new TextDecoder().decode(output.stderr));
      assert.match(text, /^\S+ info gateway gateway listening$/m, text);
      assert.doesNotMatch(text, /\{"time"/, "no line is printed as raw JSON");
    } finally {
      await gateway.stop();
      await Deno.remove(home, { recursive: true });
      await Deno.remove(refHome, { recursive: true });
    }
  },
});

Deno.test("a client whose protocol range leaves out ours is closed with the reference's 1002 'protocol mismatch'", async () => {
  const gateway = await startGateway();
  try {
    const { response, socket } = await connect(gateway, connectParams({ minProtocol: 5, maxProtocol: 6 }));
    const error = response.error as { code: string; details: Record<string, unknown> };
    assert.equal(error.code, "INVALID_REQUEST");
    assert.deepEqual(
      [
        error.details.code,
        error.details.clientMinProtocol,
        error.details.clientMaxProtocol,
        error.details.expectedProtocol,
      ],
      ["PROTOCOL_MISMATCH", 5, 6, 4],
    );
    const closed = await socket.closed;
    assert.deepEqual([closed.code, closed.reason], [1002, "protocol mismatch"]);
  } finally {
    await gateway.stop();
  }
});
