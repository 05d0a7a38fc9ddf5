// Hardening II (issue 13): secrets by value (4), idempotency across callers (10), presence ownership (11),
// state dir modes (13) and one session key validator (14).
import assert from "node:assert/strict";
import { join } from "node:path";
import { jsonlStores } from "../lib/state/jsonl-stores.ts";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { channelsModule, SIGNATURE_HEADER, signWebhookBody, TIMESTAMP_HEADER } from "../lib/channels/mod.ts";
import { hooksModule } from "../lib/hooks/mod.ts";
import type { FetchLike } from "../lib/providers/types.ts";
import { toolsModule } from "../lib/tools/mod.ts";
import type { SessionEntry, TranscriptEntry } from "../lib/state/sessions.ts";
import { parseJson5 } from "../lib/config/json5.ts";
import { collectSecretValues } from "../lib/log/secret-redactor.ts";
import { runCli } from "../runner/cli/dispatch.ts";
import { configMethodsModule } from "../runner/gateway/config-methods.ts";
import { commandCatalog } from "../runner/cli/command-table.ts";
import type { Frame } from "../mod.ts";
import { client, connectParams, startGateway, TOKEN } from "./_helpers.ts";
import { freePort, runnerEnv, spawnRunner } from "./_runner_process.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

// ---- 11. presence rows belong to the connection (or device) that wrote them -------------------------

Deno.test("presence: a client copying another's instanceId neither replaces nor removes its row", async () => {
  const gateway = await startGateway();
  const ui = (id: string) =>
    connectParams({ client: { id, version: "1", platform: "linux", mode: "ui", instanceId: "shared-1" } });
  await client(gateway, ui("openclaw-control-ui"));
  const attacker = await client(gateway, ui("openclaw-macos"));
  const rows = async () => (await gateway.state.presence()).filter((r) => r.instanceId === "shared-1");
  assert.equal((await rows()).length, 2, "each connection keeps its own row");
  attacker.socket.close();
  await attacker.socket.closed;
  await tick();
  assert.deepEqual((await rows()).map((r) => r.host), ["openclaw-control-ui"], "the victim's row survives");
  await gateway.stop();
});

// ---- 13. everything under the state dir is owner-only -----------------------------------------------

const modeOf = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test("state: transcripts, sessions.jsonl and agent dirs are created owner-only", async () => {
  const state = await Deno.makeTempDir();
  try {
    const { sessions, transcripts } = jsonlStores(state);
    await transcripts.append({ agentId: "main", sessionId: "s1" }, [
      { id: "e1", seq: 1, ts: 1, role: "user", content: "hi" } as TranscriptEntry,
    ]);
    await sessions.put({ key: "agent:main:main", sessionId: "s1", updatedAt: 1 } as SessionEntry);
    assert.equal(await modeOf(join(state, "agents")), 0o700);
    assert.equal(await modeOf(join(state, "agents", "main")), 0o700);
    assert.equal(await modeOf(join(state, "agents", "main", "sessions")), 0o700);
    assert.equal(await modeOf(join(state, "agents", "main", "sessions", "s1.jsonl")), 0o600);
    assert.equal(await modeOf(join(state, "agents", "sessions.jsonl")), 0o600);
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});

async function doctorCli(home: string, argv: string[]) {
  const out: string[] = [];
  const code = await runCli(argv, {
    output: { out: (t) => out.push(t), err: (t) => out.push(t) },
    env: { HOME: home },
    osHome: home,
    shutdownSignal: new AbortController().signal,
    commands: commandCatalog({ isTerminal: false }),
    version: "test",
  });
  return { code, out: out.join("\n") };
}

Deno.test("state: doctor reports loose modes under the state dir and --fix tightens them", async () => {
  const home = await Deno.makeTempDir();
  try {
    const state = join(home, ".openclaw");
    const sessions = join(state, "agents", "main", "sessions");
    await Deno.mkdir(sessions, { recursive: true });
    await Deno.writeTextFile(join(state, "openclaw.json"), JSON.stringify({ gateway: { mode: "local" } }));
    await Deno.writeTextFile(join(sessions, "s1.jsonl"), "{}\n");
    await Deno.writeTextFile(join(state, "agents", "sessions.jsonl"), "{}\n");
    await Deno.mkdir(join(state, "workspace"));
    await Deno.writeTextFile(join(state, "workspace", "run.sh"), "#!/bin/sh\n");
    for (
      const [path, mode] of [
        [state, 0o755],
        [join(state, "agents"), 0o755],
        [join(state, "agents", "main"), 0o755],
        [sessions, 0o755],
        [join(sessions, "s1.jsonl"), 0o644],
        [join(state, "agents", "sessions.jsonl"), 0o644],
        [join(state, "workspace", "run.sh"), 0o755],
      ] as const
    ) await Deno.chmod(path, mode);
    const report = JSON.parse((await doctorCli(home, ["doctor", "--json"])).out);
    const finding = report.checks.find((c: { id: string }) => c.id === "state-files-permissions");
    assert.equal(finding.status, "warn");
    assert.match(finding.message, /readable by others/);
    await doctorCli(home, ["doctor", "--fix", "--json"]);
    assert.equal(await modeOf(state), 0o700);
    assert.equal(await modeOf(join(state, "agents", "main")), 0o700);
    assert.equal(await modeOf(sessions), 0o700);
    assert.equal(await modeOf(join(sessions, "s1.jsonl")), 0o600);
    assert.equal(await modeOf(join(state, "agents", "sessions.jsonl")), 0o600);
    assert.equal(await modeOf(join(state, "workspace", "run.sh")), 0o700, "the owner's execute bit stays");
    const after = JSON.parse((await doctorCli(home, ["doctor", "--json"])).out);
    const tree = after.checks.find((c: { id: string }) => c.id === "state-files-permissions");
    assert.equal(tree.status, "ok", tree.message);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

// ---- 10. an idempotency key reused by another caller ------------------------------------------------

Deno.test("idempotency: another caller's reuse of a key is refused, never answered with the first run", async () => {
  const gateway = await startGateway({ modules: [agentsModule()] });
  const alice = await client(gateway);
  const bob = await client(gateway);
  const send = (c: typeof alice, sessionKey: string, message: string) =>
    c.request("chat.send", { sessionKey, message, idempotencyKey: "k-shared" });
  const first = await send(alice, "alice-thread", "alice's secret plan");
  assert.equal(first.ok, true);
  const runId = (first.payload as { runId: string }).runId;

  for (
    const [sessionKey, message] of [["alice-thread", "bob's question"], ["bob-thread", "alice's secret plan"]]
  ) {
    const reused = await send(bob, sessionKey, message);
    assert.equal(reused.ok, false, "a different request with a used key is refused");
    const error = reused.error as { code: string; message: string; details: { reason: string } };
    assert.equal(error.code, "INVALID_REQUEST");
    assert.equal(error.details.reason, "chat-request-conflict");
    assert.match(error.message, /new key/);
    assert.ok(!JSON.stringify(reused).includes(runId), "bob never learns alice's run id");
  }
  // Keys are shared across methods too (the reference uses the key as the run id): no second run with it.
  const agentReuse = await bob.request("agent", {
    message: "alice's secret plan",
    idempotencyKey: "k-shared",
  });
  assert.equal(agentReuse.ok, false);
  assert.equal(
    (agentReuse.error as { details: { reason: string } }).details.reason,
    "idempotency-key-conflict",
  );
  assert.ok(!JSON.stringify(agentReuse).includes(runId));

  // A true retry (same request, even from a new connection) still gets the original run.
  const retry = await send(await client(gateway), "alice-thread", "alice's secret plan");
  assert.equal((retry.payload as { runId: string }).runId, runId);
  await gateway.stop();
});

// ---- 14. one session key validator wherever a key enters --------------------------------------------

const BAD_KEYS = [
  "a\u0000b",
  "../../etc/passwd",
  "notes/../../x",
  "agent:main:..",
  "agent:main:a\\..\\b",
  "agent:bad",
];

Deno.test("session keys: WS methods fold case, refuse reserved namespaces in any case, NUL and dot segments", async () => {
  const gateway = await startGateway({ modules: [agentsModule()] });
  const c = await client(gateway);
  let n = 0;
  const send = (sessionKey: string) =>
    c.request("chat.send", { sessionKey, message: "hi", idempotencyKey: `k-${++n}` });
  for (const reserved of ["SUBAGENT:x", "subagent:x", "Cron:job", "agent:main:ACP:x"]) {
    const refused = await send(reserved);
    assert.equal(refused.ok, false, reserved);
    assert.match((refused.error as { message: string }).message, /reserved namespace/, reserved);
  }
  for (const bad of BAD_KEYS) {
    const refused = await send(bad);
    assert.equal(refused.ok, false, JSON.stringify(bad));
    const error = refused.error as { code: string; message: string; details: { reason: string } };
    assert.equal(error.code, "INVALID_REQUEST");
    assert.equal(error.details.reason, "invalid-session-key");
    assert.match(error.message, /^invalid session key /);
  }
  assert.equal((await send("Thread-A")).ok, true);
  const history = await c.request("chat.history", { sessionKey: "thread-a" });
  assert.equal(history.ok, true);
  const rows = await c.request("sessions.list", {});
  const keys = (rows.payload as { sessions: { key: string }[] }).sessions.map((s) => s.key);
  assert.ok(keys.includes("agent:main:thread-a"), keys.join(","));
  assert.ok(!keys.some((k) => k !== k.toLowerCase()), "stored keys are folded");
  await gateway.stop();
});

Deno.test("session keys: an agent whose id has capitals is reached by full and short keys, across a restart", async () => {
  const state = await Deno.makeTempDir();
  const config = {
    gateway: { auth: { mode: "token" as const, token: TOKEN } },
    agents: { entries: { Ops: { default: true } } },
  };
  try {
    for (const round of [1, 2]) {
      const gateway = await startGateway({ config, stores: jsonlStores(state), modules: [agentsModule()] });
      const c = await client(gateway);
      if (round === 1) {
        for (const sessionKey of ["agent:Ops:main", "notes"]) {
          const sent = await c.request("chat.send", {
            sessionKey,
            message: "hi",
            idempotencyKey: sessionKey,
          });
          assert.equal(sent.ok, true, JSON.stringify(sent.error));
          const waited = await c.request("agent.wait", {
            runId: (sent.payload as { runId: string }).runId,
            timeoutMs: 5000,
          });
          assert.equal(waited.ok, true, JSON.stringify(waited.error));
        }
      }
      for (const sessionKey of ["agent:Ops:main", "main", "notes"]) {
        const history = await c.request("chat.history", { sessionKey });
        assert.equal(history.ok, true, `${sessionKey} (round ${round}): ${JSON.stringify(history.error)}`);
        const messages = (history.payload as { messages: unknown[] }).messages;
        assert.ok(messages.length >= 2, `${sessionKey} keeps its turn (round ${round})`);
      }
      await gateway.stop();
    }
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});

Deno.test("session keys: mixed-case keys already in sessions.jsonl are folded on load", async () => {
  const state = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(state, "agents"), { recursive: true });
    const entry = {
      key: "agent:main:Thread-A",
      sessionId: "s1",
      agentId: "main",
      createdAt: 1,
      updatedAt: 1,
    };
    await Deno.writeTextFile(join(state, "agents", "sessions.jsonl"), JSON.stringify(entry) + "\n");
    const { sessions } = jsonlStores(state);
    assert.equal((await sessions.get("agent:main:thread-a"))?.sessionId, "s1");
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});

Deno.test("session keys: /v1 header and user-derived keys go through the same validator", async () => {
  const agents = agentsModule();
  const gateway = await startGateway({
    config: {
      gateway: {
        auth: { mode: "token", token: TOKEN },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
    },
    modules: [agents, openAiHttpModule({ agents })],
  });
  const post = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    gateway.fetch(
      new Request("http://127.0.0.1/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }], ...body }),
      }),
    );
  for (const headers of [{ "x-openclaw-session-key": "SUBAGENT:x" }, { "x-openclaw-session-key": "../x" }]) {
    const response = await post({}, headers);
    assert.equal(response.status, 400, JSON.stringify(headers));
    assert.equal((await response.json()).error.type, "invalid_request_error");
  }
  for (const user of ["eve\u0000", "../../alice"]) {
    const response = await post({ user });
    assert.equal(response.status, 400, JSON.stringify(user));
    assert.match((await response.json()).error.message, /invalid session key/);
  }
  const ok = await post({ user: "Bob" });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  await gateway.stop();
});

Deno.test("session keys: hooks and tools refuse invalid keys with a 400, not a crash", async () => {
  const agents = agentsModule();
  const gateway = await startGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      hooks: { enabled: true, token: "hook-token-abcdef", allowRequestSessionKey: true },
    },
    modules: [agents, toolsModule({ agents }), hooksModule({ agents })],
  });
  const hook = await gateway.fetch(
    new Request("http://127.0.0.1/hooks/agent", {
      method: "POST",
      headers: { authorization: "Bearer hook-token-abcdef", "content-type": "application/json" },
      body: JSON.stringify({ message: "hi", sessionKey: "hook:a\u0000b" }),
    }),
  );
  assert.equal(hook.status, 400);
  assert.match(JSON.stringify(await hook.json()), /invalid session key/);
  const c = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
  const tool = await c.request("tools.invoke", { name: "sessions_history", args: { sessionKey: "../../x" } });
  assert.match(JSON.stringify(tool), /invalid session key/);
  await gateway.stop();
});

// ---- 4. secrets redacted by value wherever they leave the process ----------------------------------

const API_KEY = "sk-live-ABCDEFGH12345678";
const HEADER_VALUE = "tenant-secret-9876543210";
const URL_PASSWORD = "p4ssw0rd-in-url";
const ENV_VAR_VALUE = "env-var-secret-value-42";
const ALL_SECRETS = [TOKEN, API_KEY, HEADER_VALUE, URL_PASSWORD, ENV_VAR_VALUE];

function assertNoSecret(text: string, where: string): void {
  for (const secret of ALL_SECRETS) {
    assert.ok(!text.includes(secret), `${where} leaks ${secret}: ${text.slice(0, 400)}`);
  }
}

/** The parts of the test configs the assertions read. */
interface FileConfig {
  gateway: { port?: number; auth: { token: string } };
  env: { vars: Record<string, string> };
  models: {
    providers: {
      up: { baseUrl: string; apiKey?: string; headers: Record<string, string> };
      mirror: { baseUrl: string };
    };
  };
}

/** An upstream that answers 401 and, like some real ones, echoes the credentials it was sent. */
const echoingUpstream: FetchLike = (input, init) => {
  const headers = new Headers(init?.headers);
  const message = `Incorrect API key provided: ${headers.get("authorization")} (tenant ${
    headers.get("x-tenant")
  }, url ${String(input)}, env ${ENV_VAR_VALUE})`;
  return Promise.resolve(
    Response.json({ error: { message, type: "invalid_request_error" } }, { status: 401 }),
  );
};

async function leakyGateway(records: unknown[] = []) {
  const agents = agentsModule({ fetch: echoingUpstream });
  return await startGateway({
    config: {
      gateway: {
        auth: { mode: "token", token: TOKEN },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
      env: { vars: { TENANT_KEY: ENV_VAR_VALUE } },
      models: {
        providers: {
          up: {
            baseUrl: `https://bob:${URL_PASSWORD}@upstream.invalid/v1`,
            apiKey: API_KEY,
            api: "openai-completions",
            headers: { "X-Tenant": HEADER_VALUE },
            models: [{ id: "m" }],
          },
        },
      },
      agents: { defaults: { model: { primary: "up/m" } } },
    },
    modules: [agents, openAiHttpModule({ agents })],
    logSinks: [{ write: (record) => records.push(record) }],
  });
}

Deno.test("secrets: an upstream 401 echoing the key reaches neither the /v1 caller nor chat events nor logs", async () => {
  const records: unknown[] = [];
  const gateway = await leakyGateway(records);
  const post = (stream: boolean) =>
    gateway.fetch(
      new Request("http://127.0.0.1/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "openclaw", stream, messages: [{ role: "user", content: "hi" }] }),
      }),
    );
  const plain = await post(false);
  const plainText = await plain.text();
  assert.ok(plain.status >= 400, plainText);
  assert.match(plainText, /__OPENCLAW_REDACTED__/);
  assertNoSecret(plainText, "/v1 error body");
  JSON.parse(plainText);
  const streamed = await (await post(true)).text();
  assert.match(streamed, /__OPENCLAW_REDACTED__/);
  assertNoSecret(streamed, "/v1 SSE error");

  const c = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
  await c.request("chat.send", { sessionKey: "main", message: "hi", idempotencyKey: "k-leak" });
  const isChatError = (f: Frame) => f.event === "chat" && (f.payload as { state: string }).state === "error";
  const failed = c.socket.skipped.find(isChatError) ?? await c.socket.waitFor(isChatError);
  assert.match(JSON.stringify(failed), /__OPENCLAW_REDACTED__/);
  assertNoSecret(JSON.stringify(failed), "chat error event");
  const history = await c.request("chat.history", { sessionKey: "main" });
  assertNoSecret(JSON.stringify(history), "chat.history");
  const tail = await c.request("logs.tail", { limit: 500 });
  assertNoSecret(JSON.stringify(tail), "logs.tail");
  assertNoSecret(JSON.stringify(records), "log sink");
  // Any event or result carrying a secret value is scrubbed on the wire, not only known fields.
  gateway.bus.publish({ event: "custom.note", payload: { text: `key=${API_KEY}`, n: 1 } });
  const note = await c.socket.waitFor((f) => f.event === "custom.note");
  assert.deepEqual(note.payload, { text: "key=__OPENCLAW_REDACTED__", n: 1 });
  for (const method of ["status", "health"]) {
    assertNoSecret(JSON.stringify(await c.request(method, {})), method);
  }
  await gateway.stop();
});

Deno.test("secrets: the redactor follows config reloads", async () => {
  const gateway = await leakyGateway();
  const c = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
  const rotated = "sk-rotated-ZYXWVUT987654321";
  const next = structuredClone(gateway.config()) as unknown as FileConfig;
  next.models.providers.up.apiKey = rotated;
  assert.deepEqual(gateway.updateConfig(next), { ok: true });
  gateway.bus.publish({ event: "custom.note", payload: { text: `${rotated} ${API_KEY}` } });
  const note = await c.socket.waitFor((f) => f.event === "custom.note");
  assert.equal((note.payload as { text: string }).text, `__OPENCLAW_REDACTED__ ${API_KEY}`);
  await gateway.stop();
});

Deno.test("secrets: host-resolved SecretRef values and any module's text body are redacted too", async () => {
  const refValue = "exec-ref-value-0123456789";
  const gateway = await startGateway({ secretValues: () => [refValue] });
  gateway.registerRoute({
    path: "/custom/metrics",
    handler: () =>
      new Response(`# scrape\nlabel{reason="${refValue}"} 1\n`, {
        headers: { "content-type": "text/plain" },
      }),
  });
  const scraped = await (await gateway.fetch(new Request("http://127.0.0.1/custom/metrics"))).text();
  assert.equal(scraped, '# scrape\nlabel{reason="__OPENCLAW_REDACTED__"} 1\n');
  const c = await client(gateway);
  gateway.bus.publish({ event: "custom.note", payload: { text: refValue } });
  assert.deepEqual((await c.socket.waitFor((f) => f.event === "custom.note")).payload, {
    text: "__OPENCLAW_REDACTED__",
  });
  await gateway.stop();
});

Deno.test("secrets: config.get needs admin and hides values by value; writes that send the marker back keep them", async () => {
  const dir = await Deno.makeTempDir();
  const configPath = join(dir, "openclaw.json");
  const fileText = `// operator notes stay
{
  gateway: { mode: "local", auth: { mode: "token", token: "${TOKEN}" } },
  env: { vars: { TENANT_KEY: "${ENV_VAR_VALUE}" } },
  models: {
    providers: {
      up: {
        baseUrl: "https://bob:${URL_PASSWORD}@upstream.invalid/v1",
        api: "openai-completions",
        headers: { "X-Tenant": "${HEADER_VALUE}" },
        models: [{ id: "m" }],
      },
      // Too short to redact by value everywhere, still a credential: hidden as URL userinfo.
      mirror: { baseUrl: "http://ann:pw7@mirror.invalid/v1", api: "openai-completions" },
    },
  },
}
`;
  await Deno.writeTextFile(configPath, fileText);
  const gateway = await startGateway({
    config: JSON.parse(JSON.stringify(parseJson5(fileText))),
    modules: [configMethodsModule({ configPath })],
  });
  try {
    const reader = await client(gateway, connectParams({ scopes: ["operator.read", "operator.write"] }));
    for (const method of ["config.get", "config.schema"]) {
      const refused = await reader.request(method, {});
      assert.equal(refused.ok, false, method);
      assert.equal((refused.error as { code: string }).code, "FORBIDDEN");
    }
    const admin = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
    const got = (await admin.request("config.get", {})).payload as {
      raw: string;
      hash: string;
      parsed: { models: { providers: { up: { baseUrl: string; headers: Record<string, string> } } } };
    };
    assertNoSecret(JSON.stringify(got), "config.get");
    assert.ok(!JSON.stringify(got).includes("ann:pw7"), "a short URL password is hidden too");
    assert.match(got.raw, /operator notes stay/);
    assert.equal(got.parsed.models.providers.up.baseUrl, "https://__OPENCLAW_REDACTED__@upstream.invalid/v1");
    assert.equal(got.parsed.models.providers.up.headers["X-Tenant"], "__OPENCLAW_REDACTED__");

    // Round trip: the redacted text, edited elsewhere, goes back; the real values stay on disk.
    const edited = got.raw.replace('mode: "local"', 'mode: "local", port: 18800');
    const set = await admin.request("config.set", { raw: edited, baseHash: got.hash });
    assert.equal(set.ok, true, JSON.stringify(set.error));
    assertNoSecret(JSON.stringify(set), "config.set result");
    const written = parseJson5(await Deno.readTextFile(configPath)) as FileConfig;
    assert.equal(written.gateway.port, 18800);
    assert.equal(written.gateway.auth.token, TOKEN);
    assert.equal(written.env.vars.TENANT_KEY, ENV_VAR_VALUE);
    assert.equal(written.models.providers.up.baseUrl, `https://bob:${URL_PASSWORD}@upstream.invalid/v1`);
    assert.equal(written.models.providers.up.headers["X-Tenant"], HEADER_VALUE);
    assert.equal(written.models.providers.mirror.baseUrl, "http://ann:pw7@mirror.invalid/v1");

    const again = (await admin.request("config.get", {})).payload as { hash: string };
    const patch = await admin.request("config.patch", {
      raw: JSON.stringify({
        models: { providers: { up: { headers: { "X-Tenant": "__OPENCLAW_REDACTED__", "X-New": "v" } } } },
      }),
      baseHash: again.hash,
    });
    assert.equal(patch.ok, true, JSON.stringify(patch.error));
    const patched = parseJson5(await Deno.readTextFile(configPath)) as FileConfig;
    assert.deepEqual(patched.models.providers.up.headers, { "X-Tenant": HEADER_VALUE, "X-New": "v" });
  } finally {
    await gateway.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runner: a 0755 state dir is tightened at start; SecretRef and echoed secrets stay out of /v1 and the log file", async () => {
  const home = await Deno.makeTempDir();
  const state = join(home, ".openclaw");
  await Deno.mkdir(state, { recursive: true });
  await Deno.chmod(state, 0o755);
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    await request.body?.cancel();
    const message = `bad key ${request.headers.get("authorization")} tenant ${
      request.headers.get("x-tenant")
    }`;
    return Response.json({ error: { message } }, { status: 401 });
  });
  const port = freePort();
  await Deno.writeTextFile(
    join(state, "openclaw.json"),
    JSON.stringify({
      gateway: {
        mode: "local",
        port,
        auth: { mode: "token", token: TOKEN },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
      env: { vars: { TENANT_KEY: { source: "env", id: "TENANT_ENV" } } },
      models: {
        providers: {
          up: {
            baseUrl: `http://127.0.0.1:${upstream.addr.port}/v1`,
            apiKey: { source: "env", id: "UP_KEY" },
            api: "openai-completions",
            headers: { "X-Tenant": HEADER_VALUE },
            models: [{ id: "m" }],
          },
        },
      },
      agents: { defaults: { model: { primary: "up/m" } } },
    }),
  );
  const proc = spawnRunner(["gateway"], runnerEnv(home, { UP_KEY: API_KEY, TENANT_ENV: ENV_VAR_VALUE }));
  try {
    await proc.waitFor(/gateway listening/);
    assert.equal(await modeOf(state), 0o700);
    const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }),
    });
    const body = await response.text();
    assert.match(body, /bad key Bearer __OPENCLAW_REDACTED__ tenant __OPENCLAW_REDACTED__/);
    assertNoSecret(body, "runner /v1 error");
  } finally {
    await proc.stop();
    await upstream.shutdown();
  }
  const logs = [...Deno.readDirSync(join(state, "logs"))].map((e) =>
    Deno.readTextFileSync(join(state, "logs", e.name))
  );
  assert.match(logs.join(""), /__OPENCLAW_REDACTED__/, "the upstream failure is logged, redacted");
  assertNoSecret(logs.join("\n") + proc.lines.join("\n"), "runner log");
  await Deno.remove(home, { recursive: true });
});

Deno.test("session keys: a channel message whose conversation id makes a bad key starts no turn", async () => {
  const records: { msg: string; error?: string }[] = [];
  const agents = agentsModule();
  const gateway = await startGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      channels: { webhook: { secret: "webhook-shared-secret", outboundUrl: "http://127.0.0.1:9/replies" } },
    },
    modules: [agents, channelsModule({ agents })],
    logSinks: [{ write: (record) => records.push(record as { msg: string; error?: string }) }],
  });
  const text = JSON.stringify({ from: "u1", conversationId: "../../etc", text: "hi" });
  const ts = Date.now();
  const response = await gateway.fetch(
    new Request("http://127.0.0.1/channels/webhook/inbound", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [SIGNATURE_HEADER]: await signWebhookBody("webhook-shared-secret", ts, text),
        [TIMESTAMP_HEADER]: String(ts),
      },
      body: text,
    }),
  );
  await response.body?.cancel();
  const deadline = Date.now() + 5000;
  while (!records.some((r) => r.msg === "channel turn could not start") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const refused = records.find((r) => r.msg === "channel turn could not start");
  assert.match(refused?.error ?? "", /invalid session key/);
  const c = await client(gateway);
  const sessions = (await c.request("sessions.list", {})).payload as { sessions: unknown[] };
  assert.equal(sessions.sessions.length, 0);
  await gateway.stop();
});

Deno.test("secrets: what is collected is secret values, not ref descriptions or provider settings", () => {
  const values = collectSecretValues({
    secrets: {
      defaults: { env: "default" },
      providers: { vault: { source: "exec", command: "/usr/bin/vault" } },
    },
    models: {
      providers: { up: { apiKey: { source: "exec", provider: "vault", id: "up/key" }, maxTokens: 4096 } },
    },
    hooks: { token: { source: "env", id: "HOOK_TOKEN" } },
    channels: { telegram: { botToken: "123456:ABC-telegram" } },
    env: { vars: { A_KEY: "value-of-a-key" }, shellEnv: { enabled: true } },
    // Short values and plain user names would mangle text ("operator.admin"): not collected.
    gateway: { auth: { password: "admin" } },
    tools: {
      mirror: "https://admin@mirror.invalid/",
      repo: "https://ghp_0123456789abcdefXYZ@github.invalid/x",
    },
  }, { HOOK_TOKEN: "hook-token-from-env" });
  assert.deepEqual([...values].sort(), [
    "123456:ABC-telegram",
    "ghp_0123456789abcdefXYZ",
    "hook-token-from-env",
    "value-of-a-key",
  ]);
});

Deno.test("secrets: event streams split inside a character come out whole, each stream on its own", async () => {
  const { redactResponse } = await import("../lib/http/redact-response.ts");
  const { SecretRedactor } = await import("../lib/log/secret-redactor.ts");
  const secrets = new SecretRedactor(["sk-live-secret-value"]);
  const bytes = new TextEncoder().encode(
    'data: {"text":"héllo wörld"}\n\ndata: {"key":"sk-live-secret-value"}\n\n',
  );
  const split = bytes.indexOf(0xc3) + 1; // inside the two bytes of "é"
  const stream = (parts: Uint8Array[]) =>
    new Response(
      new ReadableStream({
        start(c) {
          parts.forEach((p) => c.enqueue(p));
          c.close();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  const parts = [bytes.slice(0, split), bytes.slice(split, split + 5), bytes.slice(split + 5)];
  const [a, b] = await Promise.all([
    redactResponse(stream(parts), secrets),
    redactResponse(stream(parts), secrets),
  ]);
  const [textA, textB] = await Promise.all([a.text(), b.text()]);
  const expected = 'data: {"text":"héllo wörld"}\n\ndata: {"key":"__OPENCLAW_REDACTED__"}\n\n';
  assert.equal(textA, expected);
  assert.equal(textB, expected);
});
