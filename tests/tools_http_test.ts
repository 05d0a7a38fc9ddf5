// POST /tools/invoke on a real loopback port: shapes and status codes of the reference, both policy
// layers (config tools.allow/deny and the gateway's HTTP deny list), body limits.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import {
  type ToolDefinition,
  ToolInputError,
  toolsModule,
  type ToolsModuleOptions,
} from "../lib/tools/mod.ts";
import { createGateway, type GatewayConfig } from "../mod.ts";
import { denoTransport } from "../deno.ts";

const TOKEN = "tools-http-token-0123456789";
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

/** Tools an embedding app adds; `calls` records what reached them. */
function appTools(calls: { name: string; args: unknown; toolCallId: string }[]): ToolDefinition[] {
  const recorder = (name: string, extra: Partial<ToolDefinition> = {}): ToolDefinition => ({
    name,
    description: `records ${name} calls`,
    execute(args, context) {
      calls.push({ name, args, toolCallId: context.toolCallId });
      return { ran: name, sessionKey: context.sessionKey, agentId: context.agentId };
    },
    ...extra,
  });
  return [
    recorder("lookup_order", {
      parameters: { type: "object", properties: { id: { type: "string" }, action: { type: "string" } } },
    }),
    recorder("exec"),
    {
      name: "fragile",
      description: "fails with an internal detail",
      execute() {
        throw new Error("cannot open /var/secret/token.txt");
      },
    },
    {
      name: "picky",
      description: "refuses its input",
      execute() {
        throw new ToolInputError("id must be a positive number");
      },
    },
  ];
}

async function harness(
  config: GatewayConfig = {},
  options: Omit<ToolsModuleOptions, "agents"> = {},
) {
  const calls: { name: string; args: unknown; toolCallId: string }[] = [];
  const agents = agentsModule();
  const gateway = createGateway({
    config: { ...config, gateway: { ...config.gateway, auth: { mode: "token", token: TOKEN } } },
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    now: () => NOW,
    modules: [agents, toolsModule({ agents, tools: appTools(calls), ...options })],
  });
  const address = await gateway.start();
  const url = `http://127.0.0.1:${address!.port}/tools/invoke`;
  const invoke = async (body: unknown, init: RequestInit = {}) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
      ...init,
    });
    return { status: response.status, headers: response.headers, body: await response.json() };
  };
  return {
    url,
    calls,
    invoke,
    [Symbol.asyncDispose]: () => gateway.stop(),
  };
}

Deno.test("/tools/invoke runs a built-in: 200 {ok:true,result}; `name` wins over `tool`", async () => {
  await using h = await harness();
  const time = await h.invoke({ tool: "current_time", args: { timeZone: "Asia/Tokyo" } });
  assert.equal(time.status, 200);
  assert.equal(time.headers.get("content-type"), "application/json; charset=utf-8");
  assert.deepEqual(time.body, {
    ok: true,
    result: {
      iso: "2026-01-02T03:04:05.000Z",
      epochMs: NOW,
      timeZone: "Asia/Tokyo",
      local: "2026-01-02, 12:04:05 GMT+9",
    },
  });

  const echoed = await h.invoke({ tool: "current_time", name: "echo", args: { text: "hi there" } });
  assert.deepEqual(echoed.body, { ok: true, result: { text: "hi there" } });

  const sessions = await h.invoke({ tool: "sessions_list", action: "json", args: {} });
  assert.deepEqual(sessions.body, { ok: true, result: { count: 0, totalCount: 0, sessions: [] } });
});

Deno.test("/tools/invoke resolves the session, copies `action`, and derives the call id from the idempotency key", async () => {
  await using h = await harness({ agents: { entries: { main: {}, ops: {} } } });
  const main = await h.invoke({
    name: "lookup_order",
    action: "find",
    args: { id: "A1" },
    idempotencyKey: "job-7",
  });
  assert.equal(main.status, 200);
  assert.deepEqual(main.body.result, { ran: "lookup_order", sessionKey: "agent:main:main", agentId: "main" });
  assert.deepEqual(h.calls[0], {
    name: "lookup_order",
    args: { id: "A1", action: "find" },
    toolCallId: "http-direct-operator-job-7",
  });

  // An explicit args.action is kept; tools without an `action` property never get one.
  await h.invoke({ name: "lookup_order", action: "find", args: { action: "cancel" } });
  assert.deepEqual(h.calls[1].args, { action: "cancel" });

  const ops = await h.invoke({ name: "lookup_order", agentId: "ops", sessionKey: "main" });
  assert.deepEqual(ops.body.result, { ran: "lookup_order", sessionKey: "agent:ops:main", agentId: "ops" });
  const thread = await h.invoke({ name: "lookup_order", sessionKey: "agent:ops:thread-1" });
  assert.equal(thread.body.result.sessionKey, "agent:ops:thread-1");

  const conflict = await h.invoke({
    name: "lookup_order",
    agentId: "main",
    sessionKey: "agent:ops:thread-1",
  });
  assert.equal(conflict.status, 400);
  assert.deepEqual(conflict.body, {
    ok: false,
    error: {
      type: "invalid_request",
      message: "session 'agent:ops:thread-1' belongs to agent 'ops', not 'main'",
    },
  });
  const unknownAgent = await h.invoke({ name: "lookup_order", agentId: "ghost" });
  assert.equal(unknownAgent.status, 400);
  assert.equal(unknownAgent.body.error.type, "invalid_request");
  const reserved = await h.invoke({ name: "lookup_order", sessionKey: "cron:nightly" });
  assert.equal(reserved.status, 400);
});

Deno.test("/tools/invoke errors: 400 invalid request and tool input, 404 unknown, 500 sanitized, 401, 405", async () => {
  await using h = await harness();
  const missing = await h.invoke({ args: {} });
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.body, {
    ok: false,
    error: { type: "invalid_request", message: "tools.invoke requires name" },
  });

  const badJson = await h.invoke("{not json");
  assert.equal(badJson.status, 400);
  assert.equal(badJson.body.error.type, "invalid_request_error");
  assert.equal(badJson.body.ok, undefined);

  const input = await h.invoke({ name: "echo", args: { text: 42 } });
  assert.equal(input.status, 400);
  assert.equal(input.body.error.type, "tool_error");
  assert.match(input.body.error.message, /^invalid echo arguments: text: /);
  const picky = await h.invoke({ name: "picky" });
  assert.deepEqual([picky.status, picky.body], [400, {
    ok: false,
    error: { type: "tool_error", message: "id must be a positive number" },
  }]);

  const unknown = await h.invoke({ name: "no_such_tool" });
  assert.deepEqual([unknown.status, unknown.body], [404, {
    ok: false,
    error: { type: "not_found", message: "Tool not available: no_such_tool" },
  }]);

  const fragile = await h.invoke({ name: "fragile" });
  assert.deepEqual([fragile.status, fragile.body], [500, {
    ok: false,
    error: { type: "tool_error", message: "tool execution failed" },
  }]);

  const anonymous = await h.invoke({ name: "echo", args: { text: "x" } }, { headers: {} });
  assert.equal(anonymous.status, 401);
  assert.deepEqual(anonymous.body, { error: { message: "Unauthorized", type: "unauthorized" } });

  const get = await fetch(h.url, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  await get.body?.cancel();
});

Deno.test("/tools/invoke policy: the default HTTP deny list, gateway.tools.allow/deny, tools.allow/deny per agent", async () => {
  {
    await using h = await harness();
    const exec = await h.invoke({ name: "exec" });
    assert.deepEqual([exec.status, exec.body.error], [404, {
      type: "not_found",
      message: "Tool not available: exec",
    }]);
    assert.equal(h.calls.length, 0, "a denied tool never runs");
  }
  {
    await using h = await harness({ gateway: { tools: { allow: ["exec"], deny: ["echo"] } } });
    assert.equal((await h.invoke({ name: "exec" })).status, 200, "the owner lifted exec from the deny list");
    assert.equal((await h.invoke({ name: "echo", args: { text: "x" } })).status, 404);
  }
  {
    await using h = await harness({
      tools: { deny: ["sessions_*"] },
      agents: { entries: { main: {}, ops: { tools: { allow: ["group:utility"] } } } },
    });
    assert.equal((await h.invoke({ name: "sessions_list" })).status, 404, "glob deny");
    assert.equal((await h.invoke({ name: "lookup_order" })).status, 200, "main has no allow list");
    assert.equal(
      (await h.invoke({ name: "lookup_order", agentId: "ops" })).status,
      404,
      "not in ops' allow list",
    );
    assert.equal((await h.invoke({ name: "current_time", agentId: "ops" })).status, 200, "group:utility");
  }
});

Deno.test("/tools/invoke body limits: 413 too large, 408 too slow", async () => {
  await using h = await harness({}, { maxBodyBytes: 1024, bodyTimeoutMs: 150 });
  const big = await h.invoke({ name: "echo", args: { text: "x".repeat(2048) } });
  assert.deepEqual([big.status, big.body], [413, {
    error: { message: "Payload too large", type: "invalid_request_error" },
  }]);

  // A body that starts and does not finish until the test is done with it.
  let sender!: ReadableStreamDefaultController<Uint8Array>;
  const stalled = new ReadableStream<Uint8Array>({
    start(controller) {
      sender = controller;
      controller.enqueue(new TextEncoder().encode('{"name":"echo",'));
    },
  });
  const slow = await fetch(h.url, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: stalled,
  });
  assert.equal(slow.status, 408);
  assert.deepEqual(await slow.json(), {
    error: { message: "Request body timeout", type: "invalid_request_error" },
  });
  sender.close();
});

Deno.test("/tools/invoke answers curl like the reference's example", async () => {
  await using h = await harness();
  const curl = new Deno.Command("curl", {
    args: [
      "-sS",
      h.url,
      "-H",
      `Authorization: Bearer ${TOKEN}`,
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"tool":"sessions_list","action":"json","args":{}}',
    ],
    stdout: "piped",
  });
  const { code, stdout } = await curl.output();
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
    ok: true,
    result: { count: 0, totalCount: 0, sessions: [] },
  });
});
