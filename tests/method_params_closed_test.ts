// Methods whose reference params schema is closed (`additionalProperties: false`) refuse an unknown param
// in the reference's words, and name every property the reference defines, so real clients' fields pass.
// Everything expected is read from the reference package's protocol.schema.json, and from the reference
// gateway's own (newer) schemas where its package is installed. Last, the method table a lazy host
// registers for config.* is the one the library builds from.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { join } from "node:path";
import * as z from "zod";
import type { AgentRuntime } from "../lib/agents/runtime.ts";
import { runMethods } from "../lib/agents/run-methods.ts";
import { sessionMethods } from "../lib/agents/session-methods.ts";
import { memoryConfigWriter } from "../lib/config/writer.ts";
import { absentFeatureMethods } from "../lib/methods/absent-features.ts";
import { type ConfigHost, configMethods } from "../lib/methods/config.ts";
import { CONFIG_METHODS } from "../lib/methods/config-scopes.ts";
import { agentsModule, controlUiModule, type GatewayContext, memoryStores } from "../mod.ts";
import { connectParams } from "./_helpers.ts";
import { referenceUi } from "./_reference_ui.ts";
import { handshake, loopbackGateway } from "./_evidence_clients.ts";

const require = createRequire(import.meta.url);
const protocolSchema = JSON.parse(
  await Deno.readTextFile(
    require.resolve("@openclaw/gateway-protocol").replace(/dist\/index\.mjs$/, "protocol.schema.json"),
  ),
);

interface Definition {
  additionalProperties?: boolean;
  required?: string[];
  properties?: Record<string, unknown>;
}

const definition = (name: string): Definition => protocolSchema.definitions[name];

const BOGUS = "zzAuditBogus";

/**
 * Methods whose reference params schema is closed (`additionalProperties: false`), each with params that
 * are valid but for one unknown property. Item 2: "Unknown params are rejected as the reference does
 * ("unexpected property 'x'")".
 */
const CLOSED_METHODS: [method: string, definition: string, params: Record<string, unknown>][] = [
  ["agent", "AgentParams", { message: "hi", idempotencyKey: "audit-1" }],
  ["agent.wait", "AgentWaitParams", { runId: "no-such-run", timeoutMs: 0 }],
  ["chat.send", "ChatSendParams", { sessionKey: "main", message: "hi", idempotencyKey: "audit-2" }],
  ["chat.abort", "ChatAbortParams", { sessionKey: "main" }],
  ["chat.history", "ChatHistoryParams", { sessionKey: "main" }],
  ["sessions.list", "SessionsListParams", {}],
  ["sessions.reset", "SessionsResetParams", { key: "main" }],
  ["models.list", "ModelsListParams", {}],
  ["tasks.list", "TasksListParams", {}],
  ["update.status", "UpdateStatusParams", {}],
];

async function operatorSession() {
  const server = await loopbackGateway({ modules: [agentsModule(), controlUiModule()] });
  const { session, response } = await handshake(
    server.url,
    connectParams({ scopes: ["operator.admin", "operator.read", "operator.write"] }),
  );
  assert.equal(response.ok, true, JSON.stringify(response.error));
  return {
    session,
    async [Symbol.asyncDispose]() {
      session.ws.close();
      await session.ended;
      await server[Symbol.asyncDispose]();
    },
  };
}

Deno.test("item 2: an unknown param is refused by every method whose reference schema is closed (real socket)", async () => {
  await using open = await operatorSession();
  const accepted: string[] = [];
  for (const [method, name, params] of CLOSED_METHODS) {
    assert.equal(definition(name)?.additionalProperties, false, `${name} is closed in protocol.schema.json`);
    const answer = await open.session.request(method, { ...params, [BOGUS]: 1 });
    const error = answer.error as { code?: string; message?: string } | undefined;
    const refused = answer.ok === false && error?.code === "INVALID_REQUEST" &&
      error.message === `invalid ${method} params: at root: unexpected property '${BOGUS}'`;
    if (!refused) accepted.push(`${method} → ${JSON.stringify(answer.ok ? "ok" : error).slice(0, 120)}`);
  }
  assert.deepEqual(accepted, [], "these methods take an unknown property the reference refuses");
});

Deno.test("item 2: missing and unknown params are told together, in ajv's order (required first)", async () => {
  await using open = await operatorSession();
  for (const [method, name] of CLOSED_METHODS) {
    const problems = [
      ...(definition(name).required ?? []).map((key) => `must have required property '${key}'`),
      `at root: unexpected property '${BOGUS}'`,
    ];
    const answer = await open.session.request(method, { [BOGUS]: 1 });
    assert.deepEqual(
      answer.error,
      { code: "INVALID_REQUEST", message: `invalid ${method} params: ${problems.join("; ")}` },
      method,
    );
  }
});

/** The params schemas of the reference gateway (openclaw@2026.9.6) for `names`, from its installed package. */
async function referenceParamSchemas(names: string[]): Promise<Record<string, Definition>> {
  // The package's protocol entry (TypeBox schemas, plain JSON Schema objects) needs Node's resolution.
  const entry = join(referenceUi.root!, "..", "gateway", "protocol", "index.js");
  const script = `const m = await import(process.argv[1]); const out = {};
    for (const name of JSON.parse(process.argv[2])) if (m[name + "Schema"]) out[name] = m[name + "Schema"];
    console.log(JSON.stringify(out));`;
  const run = await new Deno.Command("node", {
    args: ["--input-type=module", "-e", script, entry, JSON.stringify(names)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(run.success, new TextDecoder().decode(run.stderr));
  return JSON.parse(new TextDecoder().decode(run.stdout));
}

/** The zod params of each closed method, from the factories that build the descriptors. */
function paramNames(): Map<string, string[]> {
  // The factories only build descriptors; nothing here calls a handler, so neither argument is read.
  const context = {} as GatewayContext;
  const runtime = {} as AgentRuntime;
  const descriptors = [
    ...runMethods(context, runtime),
    ...sessionMethods(context, runtime),
    ...absentFeatureMethods(),
  ];
  return new Map(CLOSED_METHODS.map(([method]) => {
    const params = descriptors.find((descriptor) => descriptor.name === method)?.params;
    assert.ok(params instanceof z.ZodObject, `${method} has a zod object schema`);
    return [method, Object.keys(params.shape).sort()];
  }));
}

Deno.test("item 2: each closed method's zod params name every property of its protocol.schema.json definition", () => {
  const names = paramNames();
  for (const [method, name] of CLOSED_METHODS) {
    const missing = Object.keys(definition(name).properties ?? {}).filter((key) =>
      !names.get(method)!.includes(key)
    );
    assert.deepEqual(missing, [], `${method}: ${name} properties a client may send that we would refuse`);
  }
});

Deno.test({
  name:
    "item 2: each closed method's zod params name exactly the properties of protocol.schema.json and the reference gateway's newer schema",
  ignore: referenceUi.root === undefined,
  fn: async () => {
    const names = paramNames();
    const newer = await referenceParamSchemas(CLOSED_METHODS.map(([, name]) => name));
    // The reference Control UI sends some of the newer fields (sessions.list `hasBoard`, models.list `sessionKey`).
    assert.ok(
      Object.keys(newer).length >= 6,
      `the reference package exports the schemas: ${Object.keys(newer)}`,
    );
    for (const [method, name] of CLOSED_METHODS) {
      assert.notEqual(newer[name]?.additionalProperties, true, `${name} is closed in the reference gateway`);
      const known = new Set([
        ...Object.keys(definition(name).properties ?? {}),
        ...Object.keys(newer[name]?.properties ?? {}),
      ]);
      assert.deepEqual(names.get(method), [...known].sort(), `${method} params against ${name}`);
    }
  },
});

Deno.test("item 2: the config.* table the runner registers lazily is exactly what the library builds, in order", () => {
  // Building reads only the rate-limit store; nothing here calls a handler.
  const host = { stores: memoryStores() } as unknown as ConfigHost;
  const built = configMethods({ writer: memoryConfigWriter("{}") }, host);
  assert.deepEqual(
    built.map((method) => [method.name, method.scope]),
    Object.entries(CONFIG_METHODS),
  );
});
