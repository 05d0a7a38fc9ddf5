// The method table: descriptors validated once by the registry with the reference's wording, a method an
// embedder defines the same way, results checked against their schemas, modules listed in any order, and
// config.* / secrets.reload served by the library over an in-memory document.
import assert from "node:assert/strict";
import { z } from "zod";
import { AGENT_RUNTIME } from "../lib/agents/service.ts";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import { channelsModule } from "../lib/channels/mod.ts";
import { memoryConfigWriter } from "../lib/config/writer.ts";
import { hooksModule } from "../lib/hooks/mod.ts";
import { configModule } from "../lib/methods/config.ts";
import { defineMethod } from "../lib/methods/descriptor.ts";
import { describeParamIssues } from "../lib/methods/param-errors.ts";
import { secretsModule } from "../lib/methods/secrets.ts";
import { metricsModule } from "../lib/metrics/mod.ts";
import { ServiceDirectory, serviceKey } from "../lib/services.ts";
import { toolsModule } from "../lib/tools/mod.ts";
import { controlUiModule } from "../lib/ui/mod.ts";
import type { Frame, GatewayModule } from "../mod.ts";
import { client, connectParams, startGateway, TOKEN } from "./_helpers.ts";

const ADMIN = connectParams({ scopes: ["operator.admin"] });

function errorOf(
  frame: Frame,
): { code: string; message: string; details?: unknown } {
  assert.equal(frame.ok, false, `expected an error, got ${JSON.stringify(frame)}`);
  return frame.error as { code: string; message: string; details?: unknown };
}

Deno.test("an embedder's descriptor: params arrive validated and typed; bad ones get the reference's words", async () => {
  const seen: { sessionKey: string; count?: number }[] = [];
  const gateway = await startGateway({ checkResults: true });
  gateway.registerMethod(defineMethod({
    name: "app.greet",
    scope: "operator.read",
    params: z.strictObject({ sessionKey: z.string().min(1), count: z.number().int().min(1).optional() }),
    result: z.object({ hello: z.string() }),
    handler: ({ params }) => {
      seen.push(params);
      return { hello: params.sessionKey.toUpperCase() };
    },
  }));
  const c = await client(gateway);
  const ok = await c.request("app.greet", { sessionKey: "main", count: 2 });
  assert.deepEqual(ok.payload, { hello: "MAIN" });

  const cases: [unknown, string][] = [
    [{ sessionKey: "main", x: 1 }, "at root: unexpected property 'x'"],
    [{}, "must have required property 'sessionKey'"],
    [{ sessionKey: 5 }, "at /sessionKey: must be string"],
    [{ sessionKey: "" }, "at /sessionKey: must NOT have fewer than 1 characters"],
    [
      { count: 1.5, y: true },
      "must have required property 'sessionKey'; at root: unexpected property 'y'; at /count: must be integer",
    ],
    ["nope", "must be object"],
  ];
  for (const [params, problems] of cases) {
    const res = await c.request("app.greet", params);
    assert.deepEqual(res.error, {
      code: "INVALID_REQUEST",
      message: `invalid app.greet params: ${problems}`,
    });
  }
  assert.equal(seen.length, 1, "the handler never sees params that failed");
  await gateway.stop();
});

Deno.test("built-in methods answer bad params as the reference does", async () => {
  const agents = agentsModule();
  const gateway = await startGateway({ modules: [agents, toolsModule({ agents })] });
  const c = await client(gateway);
  const cases: [string, unknown, string][] = [
    ["chat.history", {}, "invalid chat.history params: must have required property 'sessionKey'"],
    [
      "chat.send",
      { sessionKey: "main", idempotencyKey: "k" },
      "invalid chat.send params: must have required property 'message'",
    ],
    [
      "sessions.messages.subscribe",
      { key: "main", x: 1 },
      "invalid sessions.messages.subscribe params: at root: unexpected property 'x'",
    ],
    ["tools.invoke", { name: "echo", args: [] }, "invalid tools.invoke params: at /args: must be object"],
    ["logs.tail", { limit: 0 }, "invalid logs.tail params: at /limit: must be >= 1"],
    [
      "agent.wait",
      { runId: "r", timeoutMs: "soon" },
      "invalid agent.wait params: at /timeoutMs: must be number",
    ],
  ];
  for (const [method, params, message] of cases) {
    assert.deepEqual(errorOf(await c.request(method, params)), { code: "INVALID_REQUEST", message }, method);
  }
  await gateway.stop();
});

Deno.test("param wording: nested paths, enums and constants follow ajv's instancePath and messages", () => {
  const schema = z.strictObject({
    delivery: z.strictObject({ to: z.string(), mode: z.enum(["a", "b"]) }),
    flag: z.literal(true).optional(),
    tags: z.array(z.string()).max(1).optional(),
  });
  const input = { delivery: { mode: "c", extra: 1 }, flag: false, tags: ["x", "y"] };
  const result = schema.safeParse(input);
  assert.equal(result.success, false);
  assert.equal(
    describeParamIssues(result.error!.issues, input),
    [
      "at /delivery: must have required property 'to'",
      "at /delivery: unexpected property 'extra'",
      "at /delivery/mode: must be equal to one of the allowed values",
      "at /flag: must be equal to constant",
      "at /tags: must NOT have more than 1 items",
    ].join("; "),
  );
});

Deno.test("a descriptor whose schema takes any object gets it whole; unknown methods answer as before", async () => {
  const gateway = await startGateway();
  gateway.registerMethod(defineMethod({
    name: "app.echo",
    scope: "operator.read",
    params: z.record(z.string(), z.unknown()),
    handler: ({ params }) => ({ echoed: params }),
  }));
  const c = await client(gateway);
  assert.deepEqual((await c.request("app.echo", { a: 1 })).payload, { echoed: { a: 1 } });
  assert.deepEqual((await c.request("nonexistent.method")).error, {
    code: "INVALID_REQUEST",
    message: "unknown method: nonexistent.method",
  });
  await gateway.stop();
});

Deno.test("results are checked against their schemas when asked (tests), never otherwise", async () => {
  const lying = defineMethod({
    name: "app.lies",
    scope: "operator.read",
    params: z.strictObject({}),
    result: z.object({ n: z.number() }),
    // Typed as the schema says; what arrives at run time is what a buggy handler might send.
    handler: () => JSON.parse('{"n":"one"}') as { n: number },
  });
  const strict = await startGateway({ checkResults: true });
  strict.registerMethod(lying);
  const relaxed = await startGateway();
  relaxed.registerMethod(lying);
  assert.equal(errorOf(await (await client(strict)).request("app.lies")).code, "UNAVAILABLE");
  assert.deepEqual((await (await client(relaxed)).request("app.lies")).payload, { n: "one" });
  await strict.stop();
  await relaxed.stop();
});

Deno.test("built-in results match their schemas", async () => {
  const agents = agentsModule();
  const gateway = await startGateway({
    checkResults: true,
    modules: [agents, metricsModule(), toolsModule({ agents })],
  });
  const c = await client(gateway, ADMIN);
  const calls: [string, unknown][] = [
    ["health", {}],
    ["status", {}],
    ["system-presence", {}],
    ["logs.tail", { limit: 5 }],
    ["chat.send", { sessionKey: "main", message: "hi", idempotencyKey: "k-1" }],
    ["sessions.list", {}],
    ["sessions.get", { key: "main" }],
    ["chat.history", { sessionKey: "main" }],
    ["chat.abort", { sessionKey: "main" }],
    ["sessions.subscribe", {}],
    ["sessions.messages.subscribe", { key: "main" }],
    ["sessions.messages.unsubscribe", { key: "main" }],
    ["sessions.reset", { key: "main" }],
    ["models.list", {}],
    ["metrics.snapshot", {}],
    ["tools.invoke", { name: "echo", args: { text: "x" } }],
  ];
  for (const [method, params] of calls) {
    const res = await c.request(method, params);
    assert.equal(res.ok, true, `${method}: ${JSON.stringify(res.error)}`);
  }
  await gateway.stop();
});

Deno.test("modules listed in reverse order: every one finds the agents runtime", async () => {
  const agents = agentsModule();
  const channels = channelsModule({ agents });
  const metrics = metricsModule();
  const modules: GatewayModule[] = [
    controlUiModule(),
    hooksModule({ agents, channels }),
    channels,
    metrics,
    toolsModule({ agents }),
    openAiHttpModule({ agents }),
    agents,
  ];
  const gateway = await startGateway({
    modules,
    config: {
      gateway: {
        auth: { mode: "token", token: TOKEN },
        http: { endpoints: { chatCompletions: { enabled: true } } },
      },
    },
  });
  const c = await client(gateway);
  const sent = await c.request("chat.send", { sessionKey: "main", message: "hi", idempotencyKey: "r-1" });
  assert.equal(sent.ok, true);
  await c.socket.waitFor((f) => f.event === "chat" && (f.payload as { state: string }).state === "final");
  const text = ((await c.request("metrics.snapshot")).payload as { text: string }).text;
  assert.match(text, /openclaw_run_completed_total\{[^}]*outcome="ok"[^}]*\} 1/, "metrics counted the run");
  const models = await gateway.fetch(
    new Request("http://127.0.0.1/v1/models", { headers: { Authorization: `Bearer ${TOKEN}` } }),
  );
  assert.equal(models.status, 200);
  await models.body?.cancel();
  await gateway.stop();
});

Deno.test("service directory: typed keys, waiting consumers, one provider per key", () => {
  const COUNTER = serviceKey<{ n: number }>("test.counter");
  const services = new ServiceDirectory();
  const seen: number[] = [];
  services.whenProvided(COUNTER, (counter) => seen.push(counter.n));
  assert.throws(() => services.get(COUNTER), /no module provides test\.counter/);
  services.provide(COUNTER, { n: 7 });
  services.whenProvided(COUNTER, (counter) => seen.push(counter.n + 1));
  assert.deepEqual(seen, [7, 8]);
  assert.equal(services.get(COUNTER).n, 7);
  assert.throws(() => services.provide(COUNTER, { n: 1 }), /already provided/);
});

Deno.test("the context's service lookup: a module reads what another provides, whichever is listed first", async () => {
  const GREETING = serviceKey<string>("test.greeting");
  const seen: string[] = [];
  const consumer: GatewayModule = {
    name: "consumer",
    setup(context) {
      context.whenProvided(GREETING, (greeting) => seen.push(`setup:${greeting}`));
      context.registerMethod(defineMethod({
        name: "app.greeting",
        scope: "operator.read",
        params: z.strictObject({}),
        handler: () => context.service(GREETING),
      }));
    },
  };
  const provider: GatewayModule = { name: "provider", setup: (context) => context.provide(GREETING, "hi") };
  const gateway = await startGateway({ modules: [consumer, provider] });
  assert.deepEqual(seen, ["setup:hi"]);
  assert.equal(await gateway.call("app.greeting"), "hi");
  await gateway.stop();
  const runtimes: unknown[] = [];
  const agents = agentsModule();
  const reader: GatewayModule = {
    name: "reader",
    setup: (context) => context.whenProvided(AGENT_RUNTIME, (runtime) => runtimes.push(runtime)),
  };
  const second = await startGateway({ modules: [reader, agents] });
  assert.deepEqual(runtimes, [agents.runtime()]);
  await second.stop();
});

Deno.test("config.* from the library over an in-memory document and source", async () => {
  const writer = memoryConfigWriter(`{ gateway: { auth: { mode: "token", token: "${TOKEN}" } } }`);
  const gateway = await startGateway({ checkResults: true, modules: [configModule({ writer })] });
  const c = await client(gateway, ADMIN);

  const get = (await c.request("config.get")).payload as {
    hash: string;
    raw: string;
    valid: boolean;
    path: string;
  };
  assert.equal(get.valid, true);
  assert.equal(get.path, "memory");
  assert.doesNotMatch(get.raw, new RegExp(TOKEN), "credentials stay redacted");

  const missing = errorOf(await c.request("config.patch", { raw: "{ logging: { level: 'debug' } }" }));
  assert.equal((missing.details as { code: string }).code, "CONFIG_BASE_HASH_REQUIRED");
  const stale = errorOf(await c.request("config.patch", { raw: "{}", baseHash: "0".repeat(64) }));
  assert.equal((stale.details as { code: string }).code, "CONFIG_BASE_HASH_MISMATCH");
  assert.deepEqual(errorOf(await c.request("config.get", { x: 1 })), {
    code: "INVALID_REQUEST",
    message: "invalid config.get params: at root: unexpected property 'x'",
  });
  const invalid = errorOf(
    await c.request("config.set", { raw: "{ gateway: { port: 'x' } }", baseHash: get.hash }),
  );
  assert.match(invalid.message, /^invalid config: gateway\.port/);

  const patched = await c.request("config.patch", {
    raw: "{ logging: { level: 'debug' } }",
    baseHash: get.hash,
  });
  assert.equal(patched.ok, true, JSON.stringify(patched.error));
  const written = JSON.parse((await writer.read())!);
  assert.equal(written.logging.level, "debug");
  assert.equal(written.gateway.auth.token, TOKEN, "the redacted token was restored, not overwritten");
  assert.equal((patched.payload as { hash: string }).hash, await writer.hash((await writer.read())!));
  const schema = await c.request("config.schema");
  assert.equal(schema.ok, true);
  await gateway.stop();
});

Deno.test("secrets.reload from the library: the host's outcome, in the reference's shape", async () => {
  let ok = true;
  const reload = () =>
    Promise.resolve(
      ok
        ? { ok, warningCount: 1, failures: [{ path: "models.x.apiKey", state: "cold", message: "unset" }] }
        : { ok, warningCount: 0, failures: [], error: "gateway.auth.token: unset" },
    );
  const gateway = await startGateway({ checkResults: true, modules: [secretsModule(reload)] });
  const c = await client(gateway, ADMIN);
  assert.deepEqual((await c.request("secrets.reload")).payload, {
    ok: true,
    warningCount: 1,
    warnings: [{ path: "models.x.apiKey", state: "cold", message: "unset" }],
  });
  ok = false;
  const refused = errorOf(await c.request("secrets.reload"));
  assert.equal(refused.code, "UNAVAILABLE");
  assert.deepEqual(refused.details, { code: "SECRETS_RELOAD_FAILED" });
  await gateway.stop();
});
