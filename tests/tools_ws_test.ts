// tools.invoke / tools.catalog over the in-memory transport, checked against protocol.schema.json, and
// an agent run in which the local model calls a gateway tool: session.message to the session's
// subscribers, session.tool to sessions.subscribe-rs.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { type ToolDefinition, toolsModule } from "../lib/tools/mod.ts";
import type { Frame, GatewayConfig } from "../mod.ts";
import { client, connectParams, startGateway, TOKEN } from "./_helpers.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

async function gatewayWithTools(config: GatewayConfig = {}, tools: ToolDefinition[] = []) {
  const agents = agentsModule();
  const module = toolsModule({ agents, tools });
  const gateway = await startGateway({
    config: { ...config, gateway: { ...config.gateway, auth: { mode: "token", token: TOKEN } } },
    now: () => NOW,
    modules: [agents, module],
  });
  return { gateway, registry: module.registry };
}

const admin = connectParams({ scopes: ["operator.admin"] });
const readOnly = connectParams({ scopes: ["operator.read"] });

Deno.test("tools.catalog lists core groups and app tools in the protocol's shape", async () => {
  const lookup: ToolDefinition = {
    name: "lookup_order",
    description: "Finds an order.",
    pluginId: "shop",
    risk: "medium",
    execute: () => ({}),
  };
  const { gateway } = await gatewayWithTools({ agents: { entries: { main: {}, ops: {} } } }, [lookup]);
  const c = await client(gateway, readOnly);
  assert.ok((c.hello.features as { methods: string[] }).methods.includes("tools.catalog"));

  const res = await c.request("tools.catalog", {});
  assert.equal(res.ok, true, JSON.stringify(res.error));
  assertMatchesSchema("ToolsCatalogResult", res.payload);
  const catalog = res.payload as {
    agentId: string;
    groups: { id: string; source: string; tools: { id: string }[] }[];
  };
  assert.equal(catalog.agentId, "main");
  assert.deepEqual(
    catalog.groups.map((g) => [g.id, g.source, g.tools.map((t) => t.id)]),
    [
      ["utility", "core", ["current_time", "echo"]],
      ["sessions", "core", ["sessions_list", "session_status", "sessions_history"]],
      ["agents", "core", ["agents_list"]],
      ["plugin:shop", "plugin", ["lookup_order"]],
    ],
  );

  const coreOnly = await c.request("tools.catalog", { agentId: "ops", includePlugins: false });
  assertMatchesSchema("ToolsCatalogResult", coreOnly.payload);
  assert.equal((coreOnly.payload as { agentId: string }).agentId, "ops");
  assert.ok(!(coreOnly.payload as typeof catalog).groups.some((g) => g.source === "plugin"));

  const unknown = await c.request("tools.catalog", { agentId: "ghost" });
  assert.equal(unknown.ok, false);
  assert.equal((unknown.error as { code: string }).code, "NOT_FOUND");
  const extra = await c.request("tools.catalog", { verbose: true });
  assert.equal((extra.error as { code: string }).code, "INVALID_REQUEST");
  await gateway.stop();
});

Deno.test("tools.invoke answers with the SDK envelope; failures are ok:false with typed codes", async () => {
  let runs = 0;
  const counter: ToolDefinition = {
    name: "counter",
    description: "counts its runs",
    execute: (_args, context) => ({ runs: ++runs, toolCallId: context.toolCallId }),
  };
  const { gateway } = await gatewayWithTools({}, [counter]);
  const c = await client(gateway);

  const time = await c.request("tools.invoke", { name: "current_time" });
  assertMatchesSchema("ToolsInvokeResult", time.payload);
  assert.deepEqual(time.payload, {
    ok: true,
    toolName: "current_time",
    output: { iso: "2026-01-02T03:04:05.000Z", epochMs: NOW },
    source: "core",
  });

  // The idempotency key gives a stable call id, and a retry does not run the tool again.
  const first = await c.request("tools.invoke", { name: "counter", idempotencyKey: "once" });
  const retry = await c.request("tools.invoke", { name: "counter", idempotencyKey: "once" });
  assertMatchesSchema("ToolsInvokeResult", first.payload);
  assert.deepEqual(first.payload, {
    ok: true,
    toolName: "counter",
    output: { runs: 1, toolCallId: "rpc-direct-operator-once" },
    source: "plugin",
  });
  assert.deepEqual(retry.payload, first.payload);
  assert.equal(runs, 1);

  const cases: [Record<string, unknown>, string][] = [
    [{ name: "no_such_tool" }, "not_found"],
    [{ name: "exec" }, "not_found"],
    [{ name: "echo", args: { text: 1 } }, "internal_error"],
    [{ name: "echo", args: { text: "x" }, agentId: "ghost" }, "validation_error"],
  ];
  for (const [params, code] of cases) {
    const res = await c.request("tools.invoke", params);
    assert.equal(res.ok, true);
    assertMatchesSchema("ToolsInvokeResult", res.payload);
    const payload = res.payload as {
      ok: boolean;
      toolName: string;
      error: { code: string; message: string };
    };
    assert.equal(payload.ok, false);
    assert.equal(payload.toolName, params.name);
    assert.equal(payload.error.code, code, JSON.stringify(payload));
  }

  const badParams = await c.request("tools.invoke", { name: "echo", extra: 1 });
  assert.equal(badParams.ok, false);
  assert.equal((badParams.error as { code: string }).code, "INVALID_REQUEST");

  const reader = await client(gateway, readOnly);
  const denied = await reader.request("tools.invoke", { name: "echo", args: { text: "x" } });
  assert.equal((denied.error as { message: string }).message, "missing scope: operator.write");
  await gateway.stop();
});

Deno.test("owner-only tools need operator.admin even when gateway.tools.allow lifts them", async () => {
  const cron: ToolDefinition = { name: "cron", description: "schedules jobs", execute: () => "scheduled" };
  const { gateway } = await gatewayWithTools({ gateway: { tools: { allow: ["cron"] } } }, [cron]);
  const writer = await client(gateway);
  const refused = await writer.request("tools.invoke", { name: "cron" });
  assert.deepEqual((refused.payload as { error: unknown }).error, {
    code: "not_found",
    message: "Tool not available: cron",
  });
  const owner = await client(gateway, admin);
  const allowed = await owner.request("tools.invoke", { name: "cron" });
  assert.deepEqual(allowed.payload, { ok: true, toolName: "cron", output: "scheduled", source: "plugin" });
  await gateway.stop();
});

Deno.test("a WS run calls a gateway tool; subscribers get session.message and session.tool", async () => {
  const { gateway } = await gatewayWithTools();
  const watcher = await client(gateway, readOnly);
  const everything = await client(gateway, readOnly);
  const sender = await client(gateway);
  const events = (watcher.hello.features as { events: string[] }).events;
  assert.ok(events.includes("session.message") && events.includes("session.tool"));

  const sub = await watcher.request("sessions.messages.subscribe", { key: "main" });
  assert.deepEqual(sub.payload, { subscribed: true, key: "agent:main:main" });
  assert.deepEqual((await everything.request("sessions.subscribe", {})).payload, { subscribed: true });

  const sent = await sender.request("chat.send", {
    sessionKey: "main",
    message: "what is the current_time please",
    idempotencyKey: "t-1",
  });
  assert.equal(sent.ok, true, JSON.stringify(sent.error));
  const final = await sender.socket.waitFor((f) =>
    f.event === "chat" && (f.payload as { state: string }).state === "final"
  );
  const finalText = (final.payload as { message: { content: { text: string }[] } }).message.content[0].text;
  assert.equal(
    finalText,
    `The tool current_time returned: {"iso":"2026-01-02T03:04:05.000Z","epochMs":${NOW}}`,
  );

  // The subscriber saw every committed line, in transcript order.
  const messages: Frame[] = [];
  while (messages.length < 4) {
    messages.push(await watcher.socket.waitFor((f) => f.event === "session.message"));
  }
  const lines = messages.map((f) => f.payload as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => (l.message as { role: string }).role), [
    "user",
    "assistant",
    "tool",
    "assistant",
  ]);
  assert.deepEqual(lines.map((l) => l.messageSeq), [1, 2, 3, 4]);
  for (const line of lines) {
    assert.equal(line.sessionKey, "agent:main:main");
    assert.equal((line.message as { __openclaw: { id: string } }).__openclaw.id, line.messageId);
  }
  const toolCall = (lines[1].message as { toolCalls: { id: string; name: string }[] }).toolCalls[0];
  assert.equal(toolCall.name, "current_time");
  assert.equal((lines[2].message as { toolCallId: string }).toolCallId, toolCall.id);

  // sessions.subscribe sees the tool stream, with the same seq as the agent stream.
  const tools = [
    await everything.socket.waitFor((f) => f.event === "session.tool"),
    await everything.socket.waitFor((f) => f.event === "session.tool"),
  ].map((f) => f.payload as Record<string, unknown>);
  for (const payload of tools) {
    const { sessionKey, agentId, ...agentPayload } = payload;
    assert.deepEqual([sessionKey, agentId], ["agent:main:main", "main"]);
    assertMatchesSchema("AgentEvent", agentPayload);
  }
  assert.deepEqual(tools.map((t) => t.data), [
    {
      phase: "start",
      name: "current_time",
      toolCallId: toolCall.id,
      args: { query: "what is the current_time please" },
    },
    {
      phase: "result",
      name: "current_time",
      toolCallId: toolCall.id,
      result: `{"iso":"2026-01-02T03:04:05.000Z","epochMs":${NOW}}`,
      isError: false,
    },
  ]);
  assert.ok(
    !everything.socket.skipped.some((f) => f.event === "session.message"),
    "session.message only goes to the session's subscribers",
  );

  // The history keeps the tool turn.
  const history = await sender.request("chat.history", { sessionKey: "main" });
  const roles = (history.payload as { messages: { role: string }[] }).messages.map((m) => m.role);
  assert.deepEqual(roles, ["user", "assistant", "tool", "assistant"]);

  // After unsubscribing, the next turn reaches the watcher only as chat events.
  const unsub = await watcher.request("sessions.messages.unsubscribe", { key: "agent:main:main" });
  assert.deepEqual(unsub.payload, { subscribed: false, key: "agent:main:main" });
  await sender.request("chat.send", { sessionKey: "main", message: "hello again", idempotencyKey: "t-2" });
  await watcher.socket.waitFor((f) =>
    f.event === "chat" && (f.payload as { state: string }).state === "final"
  );
  await sender.request("chat.history", { sessionKey: "main" });
  assert.ok(
    !watcher.socket.skipped.some((f) =>
      f.event === "session.message" && (f.payload as { messageSeq: number }).messageSeq > 4
    ),
  );
  await gateway.stop();
});

Deno.test("sessions.messages.subscribe validates its params and refuses approvals", async () => {
  const { gateway } = await gatewayWithTools();
  const c = await client(gateway, readOnly);
  const reserved = await c.request("sessions.messages.subscribe", { key: "cron:nightly" });
  assert.equal((reserved.error as { code: string }).code, "INVALID_REQUEST");
  const approvals = await c.request("sessions.messages.subscribe", { key: "main", includeApprovals: true });
  assert.match((approvals.error as { message: string }).message, /includeApprovals is not supported/);
  const unknown = await c.request("sessions.messages.subscribe", { key: "main", agentId: "ghost" });
  assert.equal((unknown.error as { code: string }).code, "NOT_FOUND");
  await gateway.stop();
});
