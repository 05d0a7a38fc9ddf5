// Property-based fuzzing (fast-check) of everything a client or an operator can feed the gateway: raw
// frames (text and binary), connect params, every registered method's params, HTTP bodies of the
// OpenAI-compatible routes, and config (objects and files). Each run checks that the gateway answers with
// a schema-valid frame or a clear error, closes with a valid code, leaks no socket or run, and keeps
// serving a well-behaved client afterwards.
import assert from "node:assert/strict";
import fc from "fast-check";
import { join } from "node:path";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { ConfigLoadError, loadConfig } from "../lib/config/source.ts";
import { fileConfigSource } from "../runner/config/file-source.ts";
import { createGateway, type Frame, type Gateway, type GatewayConfig } from "../mod.ts";
import { client, connectParams, TOKEN } from "./_helpers.ts";
import { probeSocket, VALID_CLOSE_CODES } from "./_evidence_wire.ts";
import { until } from "./_evidence_clients.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";

const RUNS = Number(Deno.env.get("EVIDENCE_FUZZ_RUNS") ?? 200);

const CONFIG: GatewayConfig = {
  gateway: {
    auth: { mode: "token", token: TOKEN },
    http: { endpoints: { chatCompletions: { enabled: true }, responses: { enabled: true } } },
  },
  agents: { defaults: { model: { primary: "local/scripted-1" } }, entries: { main: {}, other: {} } },
};

async function fullGateway(): Promise<{ gateway: Gateway; runs: { started: number; ended: number } }> {
  const agents = agentsModule();
  const gateway = createGateway({
    config: CONFIG,
    modules: [agents, openAiHttpModule({ agents })],
    timing: { handshakeTimeoutMs: 2000 },
  });
  await gateway.start();
  const runs = { started: 0, ended: 0 };
  agents.runtime().onRunEvent((_run, event) => {
    if (event.type === "start") runs.started++;
    if (event.type === "end") runs.ended++;
  });
  return { gateway, runs };
}

/** A well-behaved client still gets through, and no socket was left behind. */
async function assertStillServing(gateway: Gateway): Promise<void> {
  const healthy = await client(gateway);
  const res = await healthy.request("health");
  assert.equal(res.ok, true, "a well-behaved client must still be served after fuzzing");
  healthy.socket.close();
  await until(() => gateway.state.connections() === 0, "all fuzzed sockets to be released");
}

// Strings that look like frames are more interesting to the parser than uniformly random text.
const requestLike = fc.record({
  type: fc.oneof(fc.constant("req"), fc.string(), fc.jsonValue()),
  id: fc.oneof(fc.string(), fc.jsonValue()),
  method: fc.oneof(fc.constantFrom("connect", "health", "chat.send", ""), fc.string(), fc.jsonValue()),
  params: fc.jsonValue(),
}, { requiredKeys: [] });

const rawInput = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.json(),
  requestLike.map((frame) => JSON.stringify(frame)),
  fc.uint8Array({ maxLength: 256 }),
  fc.integer({ min: 64 * 1024 - 8, max: 64 * 1024 + 64 }).map((n) => "x".repeat(n)),
);

Deno.test("fuzz: arbitrary text and binary frames before hello-ok are refused with a valid close", async () => {
  const { gateway } = await fullGateway();
  await fc.assert(
    fc.asyncProperty(fc.array(rawInput, { minLength: 1, maxLength: 3 }), async (inputs) => {
      const socket = probeSocket(gateway);
      for (const input of inputs) socket.deliver(input);
      // Nothing here is a valid connect, so every socket must end — by refusal, not by the handshake timer.
      const outcome = await Promise.race([
        socket.closed,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000)),
      ]);
      socket.hangUp();
      assert.ok(outcome, "the gateway must close a socket that sent no valid connect");
      assert.ok(VALID_CLOSE_CODES.has(outcome.code), `close code ${outcome.code}`);
      assert.deepEqual(socket.invalid, []);
      assert.equal(socket.frames[0].event, "connect.challenge");
      for (const frame of socket.frames.filter((f) => f.type === "res")) {
        assert.equal(frame.ok, false);
        assert.ok((frame.error as { message: string }).message.length > 0);
      }
    }),
    { numRuns: RUNS },
  );
  await assertStillServing(gateway);
  await gateway.stop();
});

const CLIENT = { id: "fuzz", version: "1", platform: "linux", mode: "test" };
const SCOPES = [
  "operator.read",
  "operator.write",
  "operator.admin",
  "operator.pairing",
  "operator.approvals",
];
const maybe = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: valid }, fc.jsonValue());

const connectArb = fc.record({
  minProtocol: maybe(fc.integer({ min: 1, max: 6 })),
  maxProtocol: maybe(fc.integer({ min: 1, max: 6 })),
  client: maybe(fc.oneof(
    fc.constant(CLIENT),
    fc.record({ id: fc.string(), mode: fc.constantFrom("cli", "node", "probe", "webchat", "test") }),
  )),
  role: maybe(fc.constantFrom("operator", "node")),
  scopes: maybe(fc.subarray([...SCOPES, "operator.bogus"])),
  auth: maybe(fc.oneof(
    fc.constant({ token: TOKEN }),
    fc.record({ token: fc.string(), password: fc.string(), bootstrapToken: fc.string() }, {
      requiredKeys: [],
    }),
  )),
  device: fc.record({
    id: fc.string(),
    publicKey: fc.string(),
    signature: fc.string(),
    signedAt: fc.nat(),
    nonce: fc.string(),
  }, { requiredKeys: [] }),
  caps: maybe(fc.array(fc.string())),
  locale: fc.jsonValue(),
}, { requiredKeys: [] });

Deno.test("fuzz: connect params get hello-ok or an error response and a 1008 close (1002 for a protocol mismatch)", async () => {
  const { gateway } = await fullGateway();
  await fc.assert(
    fc.asyncProperty(connectArb, async (params) => {
      const socket = probeSocket(gateway);
      socket.deliver(JSON.stringify({ type: "req", id: "c", method: "connect", params }));
      const response = await socket.waitFor((f) => f.type === "res" && f.id === "c");
      assert.ok(response, "connect must be answered");
      assert.deepEqual(socket.invalid, []);
      if (response.ok) {
        assertMatchesSchema("HelloOk", response.payload);
        assert.equal(socket.isClosed, false);
      } else {
        const { code } = await socket.closed;
        const error = response.error as { message: string; details?: { code?: string } };
        // The reference closes a protocol range it cannot speak with 1002, every other refusal with 1008.
        assert.equal(code, error.details?.code === "PROTOCOL_MISMATCH" ? 1002 : 1008);
        assert.ok(error.message.length > 0);
      }
      socket.hangUp();
    }),
    { numRuns: RUNS },
  );
  await assertStillServing(gateway);
  await gateway.stop();
});

// Keys the registered methods read, with values of the right type most of the time.
const paramsArb = fc.oneof(
  fc.jsonValue(),
  fc.record({
    sessionKey: maybe(
      fc.oneof(fc.constantFrom("main", "agent:main:main", "agent:other:x", "agent:ghost:x"), fc.string()),
    ),
    key: maybe(fc.string()),
    agentId: maybe(fc.constantFrom("main", "other", "ghost", "")),
    message: maybe(fc.string()),
    idempotencyKey: maybe(fc.string()),
    runId: maybe(fc.string()),
    timeoutMs: maybe(fc.integer({ min: 0, max: 200 })),
    limit: maybe(fc.integer()),
    cursor: maybe(fc.integer()),
    maxBytes: maybe(fc.integer()),
    probe: maybe(fc.boolean()),
    model: maybe(fc.string()),
  }, { requiredKeys: [] }),
);

Deno.test("fuzz: every registered method answers arbitrary params with a valid response frame", async () => {
  const { gateway, runs } = await fullGateway();
  const caller = await client(gateway, connectParams({ scopes: SCOPES }));
  const methods = (caller.hello.features as { methods: string[] }).methods;
  assert.ok(methods.length >= 10, `expected the agents methods to be registered, got ${methods}`);
  caller.socket.close();
  const socket = probeSocket(gateway);
  socket.deliver(JSON.stringify({
    type: "req",
    id: "c",
    method: "connect",
    params: connectParams({ scopes: SCOPES }),
  }));
  assert.equal((await socket.waitFor((f) => f.id === "c"))?.ok, true);
  let n = 0;
  let answeredOk = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...methods), paramsArb, async (method, params) => {
      const id = `m-${++n}`;
      // agent.wait may legitimately wait as long as the caller asks; keep that bounded here.
      if (method === "agent.wait" && params && typeof params === "object" && !Array.isArray(params)) {
        (params as Record<string, unknown>).timeoutMs = 50;
      }
      socket.deliver(JSON.stringify({ type: "req", id, method, params }));
      const response = await socket.waitFor((f: Frame) => f.type === "res" && f.id === id, 5000);
      assert.ok(response, `${method} ${JSON.stringify(params)} was not answered within 5 s`);
      assert.deepEqual(socket.invalid, [], `${method} ${JSON.stringify(params)}`);
      if (response.ok) answeredOk++;
      else {
        const error = response.error as { code: string; message: string };
        assert.notEqual(error.code, "INTERNAL", `${method} ${JSON.stringify(params)}: ${error.message}`);
      }
    }),
    { numRuns: RUNS * 2 },
  );
  assert.ok(answeredOk > 0, "the generator must also produce params the methods accept");
  assert.equal(socket.isClosed, false, "bad params must not cost the client its socket");
  socket.hangUp();
  await until(() => runs.ended === runs.started, "every started run to end");
  await assertStillServing(gateway);
  await gateway.stop();
});

const bodyArb = fc.oneof(
  fc.string(),
  fc.json(),
  fc.record({
    model: maybe(fc.constantFrom("openclaw", "openclaw/main", "openclaw/ghost", "gpt-4")),
    messages: maybe(fc.array(
      fc.record({
        role: maybe(fc.constantFrom("user", "system", "assistant", "tool", "developer")),
        content: maybe(fc.oneof(fc.string(), fc.array(fc.record({ type: fc.string(), text: fc.string() })))),
      }, { requiredKeys: [] }),
      { maxLength: 3 },
    )),
    input: maybe(fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }))),
    stream: maybe(fc.boolean()),
    max_tokens: maybe(fc.integer()),
    temperature: maybe(fc.double()),
    user: maybe(fc.string()),
  }, { requiredKeys: [] }).map((body) => JSON.stringify(body)),
);

Deno.test("fuzz: OpenAI-compatible HTTP bodies get 2xx or an OpenAI-shaped 4xx, never a 5xx", async () => {
  const { gateway, runs } = await fullGateway();
  let succeeded = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("/v1/chat/completions", "/v1/responses", "/v1/embeddings"),
      bodyArb,
      async (path, body) => {
        const response = await gateway.fetch(
          new Request(`http://127.0.0.1${path}`, {
            method: "POST",
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
            body,
          }),
        );
        const text = await response.text();
        assert.ok(response.status < 500, `${path} ${body} → ${response.status} ${text}`);
        if (response.ok) succeeded++;
        if (response.status >= 400) {
          const parsed = JSON.parse(text) as { error: { message: string; type: string } };
          assert.ok(parsed.error.message.length > 0);
          assert.equal(typeof parsed.error.type, "string");
        }
      },
    ),
    {
      numRuns: RUNS,
      // One valid body always runs: random bodies alone reach a handler only now and then, and the check
      // below is about the harness reaching the handlers, not about luck.
      examples: [[
        "/v1/chat/completions",
        JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }),
      ]],
    },
  );
  assert.ok(succeeded > 0, "the generator must also reach the handlers with valid bodies");
  await until(() => runs.ended === runs.started, "every started run to end");
  await assertStillServing(gateway);
  await gateway.stop();
});

const configArb = fc.oneof(
  fc.jsonValue(),
  fc.record({
    gateway: maybe(fc.record({
      port: maybe(fc.integer({ min: -1, max: 70000 })),
      bind: maybe(fc.constantFrom("loopback", "lan", "tailnet", "custom", "auto")),
      auth: maybe(fc.record({
        mode: maybe(fc.constantFrom("none", "token", "password", "trusted-proxy")),
        token: maybe(fc.string()),
        rateLimit: fc.jsonValue(),
      }, { requiredKeys: [] })),
      reload: maybe(fc.record({ mode: maybe(fc.constantFrom("off", "hot", "restart", "hybrid")) })),
    }, { requiredKeys: [] })),
    agents: fc.jsonValue(),
    models: fc.jsonValue(),
    logging: fc.jsonValue(),
  }, { requiredKeys: [] }),
);

Deno.test("fuzz: config objects are applied or rejected with issues; the running config stays usable", async () => {
  const { gateway } = await fullGateway();
  await fc.assert(
    fc.property(configArb, (next) => {
      const result = gateway.updateConfig(next);
      if (!result.ok) {
        assert.ok(result.issues.length > 0);
        for (const issue of result.issues) assert.equal(typeof issue.message, "string");
      }
    }),
    { numRuns: RUNS * 2 },
  );
  assert.deepEqual(gateway.updateConfig(CONFIG), { ok: true });
  await assertStillServing(gateway);
  await gateway.stop();
});

Deno.test("fuzz: config files of arbitrary text load or fail with a ConfigLoadError naming the file", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "openclaw.json");
  const source = fileConfigSource(path, { env: {} });
  const textArb = fc.oneof(
    fc.string({ unit: "binary" }),
    fc.json(),
    configArb.map((c) => JSON.stringify(c)),
    fc.constantFrom(
      '{ "$include": "../../../../etc/passwd" }',
      '{ "$include": "/proc/self/environ" }',
      '{ "$include": "openclaw.json" }',
      '{ gateway: { auth: { token: "${UNSET_VAR}" } } }',
    ),
  );
  try {
    await fc.assert(
      fc.asyncProperty(textArb, async (text) => {
        await Deno.writeTextFile(path, text);
        try {
          await loadConfig(source);
        } catch (error) {
          assert.ok(
            error instanceof ConfigLoadError,
            `unexpected ${String(error)} for ${JSON.stringify(text)}`,
          );
          assert.ok(error.message.includes(dir), error.message);
        }
      }),
      { numRuns: RUNS },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
