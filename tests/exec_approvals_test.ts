// Exec approvals: the exec.approval.* methods and events as the reference answers them, and a model's
// call of a command-running tool that waits for an operator under tools.exec.ask.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { type ToolDefinition, toolsModule } from "../lib/tools/mod.ts";
import { createGateway, type Frame, type Gateway, type GatewayConfig } from "../mod.ts";
import { connectDevice, makeDevice } from "./_device_identity.ts";
import type { GatewayStores } from "../lib/state/stores.ts";
import { client, connectParams, startGateway, type TestClient, TOKEN } from "./_helpers.ts";
import { onMemoryAndRedis } from "./_redis_server.ts";
import { assertMatchesSchema, assertScopedMethods } from "./_protocol_schema.ts";

/**
 * An approval client (it declares the `exec-approvals` cap) that may answer what the gateway's tools ask.
 * It is a local backend: a device-less client of another kind would get no scopes (the reference's rule).
 */
const APPROVER = connectParams({
  scopes: ["operator.approvals"],
  caps: ["exec-approvals"],
  client: { id: "gateway-client", version: "1", mode: "backend", displayName: "Ops desk" },
});
/** An admin approval client: it also sees requests other clients made. */
const ADMIN_APPROVER = connectParams({
  scopes: ["operator.admin"],
  caps: ["exec-approvals"],
  client: { id: "gateway-client", version: "1", mode: "backend", displayName: "Ops desk" },
});
/** A client that asks for approvals itself. */
const REQUESTER = connectParams({ scopes: ["operator.approvals"] });

/** A Control UI approver on `gateway`, signed in with its own device (auto-paired on loopback). */
async function deviceApprover(gateway: Gateway): Promise<TestClient> {
  const { socket, response } = await connectDevice(gateway, await makeDevice(), {
    scopes: ["operator.approvals"],
    client: {
      id: "openclaw-control-ui",
      version: "1",
      platform: "Linux",
      mode: "ui",
      deviceFamily: "Desktop",
    },
  });
  assert.equal(response.ok, true, JSON.stringify(response.error));
  let ids = 0;
  return {
    socket,
    hello: response.payload as Record<string, unknown>,
    request(method, params = {}) {
      const id = `approver-${++ids}`;
      socket.send({ type: "req", id, method, params });
      return socket.waitFor((f) => f.id === id);
    },
  };
}

function ok(frame: Frame): Record<string, unknown> {
  assert.equal(frame.ok, true, JSON.stringify(frame.error));
  assertMatchesSchema("ResponseFrame", frame);
  return frame.payload as Record<string, unknown>;
}

async function nextEvent(watcher: TestClient, name: string): Promise<Record<string, unknown>> {
  const i = watcher.socket.skipped.findIndex((f) => f.event === name);
  const frame = i >= 0
    ? watcher.socket.skipped.splice(i, 1)[0]
    : await watcher.socket.waitFor((f) => f.event === name);
  assertMatchesSchema("EventFrame", frame);
  return frame.payload as Record<string, unknown>;
}

/** Sends `frame` and returns the first and (for a two-stage call) the final answer to it. */
async function twoStage(c: TestClient, method: string, params: unknown) {
  const id = `two-${crypto.randomUUID()}`;
  c.socket.send({ type: "req", id, method, params });
  const first = await c.socket.waitFor((f) => f.id === id);
  return { first, final: () => c.socket.waitFor((f) => f.id === id, 10_000) };
}

Deno.test("the exec approval methods carry the schema's scope and their events are advertised", async () => {
  const gateway = await startGateway();
  const reader = await client(gateway, connectParams({ scopes: ["operator.read", "operator.write"] }));
  await assertScopedMethods(reader, "operator.approvals", [
    "exec.approval.request",
    "exec.approval.resolve",
    "exec.approval.list",
    "exec.approval.get",
  ]);
  const events = (reader.hello.features as { events: string[] }).events;
  assert.ok(events.includes("exec.approval.requested") && events.includes("exec.approval.resolved"));
  await gateway.stop();
});

Deno.test("request → requested event → list/get → resolve → resolved event and the requester's final answer", async () => {
  const gateway = await startGateway();
  const approver = await client(gateway, ADMIN_APPROVER);
  const requester = await client(gateway, REQUESTER);
  const { first, final } = await twoStage(requester, "exec.approval.request", {
    command: "rm -rf build",
    agentId: "main",
    sessionKey: "agent:main:main",
    host: "gateway",
    twoPhase: true,
    timeoutMs: 60_000,
  });
  const accepted = ok(first);
  assert.equal(accepted.status, "accepted");
  const id = String(accepted.id);
  const requested = await nextEvent(approver, "exec.approval.requested");
  assert.equal(requested.approvalKind, "exec");
  assert.equal(requested.id, id);
  const request = requested.request as Record<string, unknown>;
  assert.equal(request.command, "rm -rf build");
  assert.deepEqual(request.allowedDecisions, ["allow-once", "allow-always", "deny"]);
  assert.equal(requested.expiresAtMs, Number(requested.createdAtMs) + 60_000);

  const list = ok(await approver.request("exec.approval.list", {})) as unknown as Record<string, unknown>[];
  assert.deepEqual(list.map((a) => [a.id, a.approvalKind]), [[id, "exec"]]);
  const got = ok(await approver.request("exec.approval.get", { id }));
  assert.equal(got.commandText, "rm -rf build");
  assert.equal(got.host, "gateway");
  assert.equal(got.agentId, "main");

  assert.deepEqual(ok(await approver.request("exec.approval.resolve", { id, decision: "allow-once" })), {
    ok: true,
  });
  const resolved = await nextEvent(approver, "exec.approval.resolved");
  assert.equal(resolved.id, id);
  assert.equal(resolved.decision, "allow-once");
  assert.equal(resolved.resolvedBy, "Ops desk");
  const answer = ok(await final());
  assert.deepEqual({ ...answer, createdAtMs: 0, expiresAtMs: 0 }, {
    id,
    decision: "allow-once",
    createdAtMs: 0,
    expiresAtMs: 0,
  });
  assert.deepEqual(
    ok(await approver.request("exec.approval.list", {})),
    [] as unknown as Record<string, unknown>,
  );

  // The same answer again is fine; a different one is refused; an unknown id is not found.
  assert.deepEqual(ok(await approver.request("exec.approval.resolve", { id, decision: "allow-once" })), {
    ok: true,
  });
  const changed = await approver.request("exec.approval.resolve", { id, decision: "deny" });
  assert.deepEqual(changed.error, {
    code: "INVALID_REQUEST",
    message: "approval already resolved",
    details: { reason: "APPROVAL_ALREADY_RESOLVED" },
  });
  const unknown = await approver.request("exec.approval.resolve", { id: "nope", decision: "deny" });
  assert.deepEqual(unknown.error, {
    code: "INVALID_REQUEST",
    message: "unknown or expired approval id",
    details: {
      reason: "APPROVAL_NOT_FOUND",
      remediation: "Re-request the action; pending approvals are cleared after expiry or restart.",
    },
  });
  const invalid = await approver.request("exec.approval.resolve", { id, decision: "maybe" });
  assert.deepEqual(invalid.error, { code: "INVALID_REQUEST", message: "invalid decision" });
  await gateway.stop();
});

Deno.test("ask always offers no allow-always; an unanswered request expires with decision null", async () => {
  const gateway = await startGateway();
  const approver = await client(gateway, ADMIN_APPROVER);
  const requester = await client(gateway, REQUESTER);
  const { first } = await twoStage(requester, "exec.approval.request", {
    command: "make deploy",
    ask: "always",
    twoPhase: true,
  });
  const id = String(ok(first).id);
  const refused = await approver.request("exec.approval.resolve", { id, decision: "allow-always" });
  assert.deepEqual(refused.error, {
    code: "INVALID_REQUEST",
    message: "allow-always is unavailable for this command",
    details: { reason: "APPROVAL_ALLOW_ALWAYS_UNAVAILABLE" },
  });
  ok(await approver.request("exec.approval.resolve", { id, decision: "deny" }));

  const started = Date.now();
  const expired = ok(await requester.request("exec.approval.request", { command: "sleep 1", timeoutMs: 80 }));
  assert.equal(expired.decision, null);
  assert.ok(Date.now() - started >= 70);
  const missing = await approver.request("exec.approval.resolve", { id: expired.id, decision: "allow-once" });
  assert.equal((missing.error as { details: { reason: string } }).details.reason, "APPROVAL_NOT_FOUND");
  const empty = await approver.request("exec.approval.request", { command: "  " });
  assert.deepEqual(empty.error, { code: "INVALID_REQUEST", message: "command is required" });
  await gateway.stop();
});

/** A command-running tool the local model calls when a message names it; counts its runs. */
function hostExec(): ToolDefinition & { runs: string[] } {
  const runs: string[] = [];
  return {
    runs,
    name: "host_exec",
    description: "Runs a command on the gateway host.",
    execCommand: (args) => `echo ${String(args.query)}`,
    execute: (args) => {
      runs.push(String(args.query));
      return { exitCode: 0, stdout: "done" };
    },
  };
}

async function toolGateway(
  exec: GatewayConfig["tools"],
  options: { timeoutMs?: number; stores?: GatewayStores } = {},
) {
  const tool = hostExec();
  const agents = agentsModule();
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } }, tools: exec },
    stores: options.stores,
    modules: [agents, toolsModule({ agents, tools: [tool], approvalTimeoutMs: options.timeoutMs })],
  });
  await gateway.start();
  return { gateway, tool };
}

/** Sends a chat message that makes the model call host_exec; resolves with the final reply text. */
async function chatTurn(sender: TestClient, message: string): Promise<() => Promise<string>> {
  const sent = await sender.request("chat.send", {
    sessionKey: "main",
    message,
    idempotencyKey: crypto.randomUUID(),
  });
  const runId = ok(sent).runId;
  return async () => {
    const final = await sender.socket.waitFor(
      (f) =>
        f.event === "chat" && (f.payload as { state: string; runId: string }).state === "final" &&
        (f.payload as { runId: string }).runId === runId,
      10_000,
    );
    return (final.payload as { message: { content: { text: string }[] } }).message.content[0].text;
  };
}

Deno.test("tools.exec.ask: a model's command waits for an operator and runs once allowed", async () => {
  const { gateway, tool } = await toolGateway({ exec: { ask: "always" } });
  const approver = await client(gateway, APPROVER);
  const sender = await client(gateway);
  const reply = await chatTurn(sender, "please host_exec now");
  const requested = await nextEvent(approver, "exec.approval.requested");
  const request = requested.request as Record<string, unknown>;
  assert.equal(request.command, "echo please host_exec now");
  assert.equal(request.agentId, "main");
  assert.equal(request.sessionKey, "agent:main:main");
  assert.equal(request.host, "gateway");
  assert.equal(typeof request.toolCallId, "string");
  assert.deepEqual(tool.runs, [], "the tool waits for the decision");
  ok(await approver.request("exec.approval.resolve", { id: requested.id, decision: "allow-once" }));
  assert.equal(await reply(), 'The tool host_exec returned: {"exitCode":0,"stdout":"done"}');
  assert.deepEqual(tool.runs, ["please host_exec now"]);
  await gateway.stop();
});

Deno.test("tools.exec.ask: a denied command is the tool's error result and the turn goes on", async () => {
  const { gateway, tool } = await toolGateway({ exec: { ask: "always" } });
  const approver = await client(gateway, APPROVER);
  const sender = await client(gateway);
  const reply = await chatTurn(sender, "host_exec the cleanup");
  const requested = await nextEvent(approver, "exec.approval.requested");
  ok(await approver.request("exec.approval.resolve", { id: requested.id, decision: "deny" }));
  assert.equal(
    await reply(),
    `The tool host_exec returned: Exec denied (gateway id=${requested.id}, user-denied): echo host_exec the cleanup`,
  );
  assert.deepEqual(tool.runs, []);
  await gateway.stop();
});

Deno.test("a request nobody else could answer ends at once, unless it asks to wait anyway", async () => {
  const gateway = await startGateway();
  const alone = await client(gateway, ADMIN_APPROVER);
  const started = Date.now();
  const unrouted = ok(await alone.request("exec.approval.request", { command: "ls", timeoutMs: 60_000 }));
  assert.equal(unrouted.decision, null);
  assert.ok(Date.now() - started < 5_000, "not after its timeout");
  assert.deepEqual(
    ok(await alone.request("exec.approval.list", {})),
    [] as unknown as Record<string, unknown>,
  );
  const waited = ok(
    await alone.request("exec.approval.request", {
      command: "ls",
      timeoutMs: 60,
      requireDeliveryRoute: false,
    }),
  );
  assert.equal(waited.decision, null);
  await gateway.stop();
});

Deno.test("tools.exec.ask: with no operator to ask, the askFallback applies at once", async () => {
  const { gateway, tool } = await toolGateway({ exec: { ask: "always" } });
  const sender = await client(gateway);
  const started = Date.now();
  const text = await (await chatTurn(sender, "host_exec backup"))();
  assert.match(text, /Exec denied \(gateway id=[^,]+, approval-timeout\): echo host_exec backup$/);
  assert.ok(Date.now() - started < 5_000);
  assert.deepEqual(tool.runs, []);
  await gateway.stop();
});

Deno.test("tools.exec.ask: an unanswered request times out into the askFallback", async () => {
  const denied = await toolGateway({ exec: { ask: "always" } }, { timeoutMs: 100 });
  await client(denied.gateway, APPROVER);
  const sender = await client(denied.gateway);
  const text = await (await chatTurn(sender, "host_exec backup"))();
  assert.match(
    text,
    /^The tool host_exec returned: Exec denied \(gateway id=[^,]+, approval-timeout\): echo host_exec backup$/,
  );
  assert.deepEqual(denied.tool.runs, []);
  await denied.gateway.stop();

  const lenient = await toolGateway({ exec: { ask: "always", askFallback: "full" } }, { timeoutMs: 100 });
  await client(lenient.gateway, APPROVER);
  const other = await client(lenient.gateway);
  assert.equal(
    await (await chatTurn(other, "host_exec backup"))(),
    'The tool host_exec returned: {"exitCode":0,"stdout":"done"}',
  );
  assert.deepEqual(lenient.tool.runs, ["host_exec backup"]);
  await lenient.gateway.stop();
});

Deno.test("tools.exec.ask on-miss: allow-always trusts the command from then on; ask off never asks", async () => {
  const { gateway, tool } = await toolGateway({ exec: { ask: "on-miss" } });
  const approver = await client(gateway, APPROVER);
  const sender = await client(gateway);
  const first = await chatTurn(sender, "host_exec status");
  const requested = await nextEvent(approver, "exec.approval.requested");
  ok(await approver.request("exec.approval.resolve", { id: requested.id, decision: "allow-always" }));
  await first();
  const second = await chatTurn(sender, "host_exec status");
  await second();
  assert.deepEqual(tool.runs, ["host_exec status", "host_exec status"]);
  assert.equal(
    approver.socket.skipped.some((f) => f.event === "exec.approval.requested"),
    false,
    "asked once",
  );
  await gateway.stop();

  const off = await toolGateway(undefined);
  const plain = await client(off.gateway);
  await (await chatTurn(plain, "host_exec status"))();
  assert.deepEqual(off.tool.runs, ["host_exec status"]);
  await off.gateway.stop();
});

onMemoryAndRedis(
  {
    memory: "an approval waited on by one replica is listed and answered on another",
    redis: "an approval waited on by one replica is listed and answered on another, over one Redis",
  },
  "approvals:",
  async (a, b) => {
    const one = await toolGateway({ exec: { ask: "always" } }, { stores: a });
    const agents = agentsModule();
    const two = createGateway({
      config: { gateway: { auth: { mode: "token", token: TOKEN } } },
      stores: b,
      modules: [agents],
    });
    await two.start();
    const sender = await client(one.gateway);
    // Replica one knows replica two's approvers by their presence rows: a UI with a device identity has one.
    const approver = await deviceApprover(two);
    const reply = await chatTurn(sender, "host_exec across");
    const requested = await nextEvent(approver, "exec.approval.requested");
    const listed = ok(await approver.request("exec.approval.list", {})) as unknown as { id: string }[];
    assert.deepEqual(listed.map((a) => a.id), [requested.id]);
    ok(await approver.request("exec.approval.resolve", { id: requested.id, decision: "allow-once" }));
    assert.equal(await reply(), 'The tool host_exec returned: {"exitCode":0,"stdout":"done"}');
    await two.stop();
    await one.gateway.stop();
  },
);

Deno.test("a client's request is seen by admins and by itself, not by other approvers; the gateway's own by every approver", async () => {
  const { gateway } = await toolGateway({ exec: { ask: "always" } });
  const approver = await client(gateway, APPROVER);
  const admin = await client(gateway, ADMIN_APPROVER);
  const requester = await client(gateway, REQUESTER);
  const { first } = await twoStage(requester, "exec.approval.request", { command: "ls", twoPhase: true });
  const id = String(ok(first).id);
  assert.equal((await nextEvent(admin, "exec.approval.requested")).id, id);
  assert.deepEqual(
    ok(await approver.request("exec.approval.list", {})),
    [] as unknown as Record<string, unknown>,
  );
  const hidden = await approver.request("exec.approval.resolve", { id, decision: "allow-once" });
  assert.equal((hidden.error as { details: { reason: string } }).details.reason, "APPROVAL_NOT_FOUND");
  const own = ok(await requester.request("exec.approval.list", {})) as unknown as { id: string }[];
  assert.deepEqual(own.map((a) => a.id), [id]);
  ok(await admin.request("exec.approval.resolve", { id, decision: "deny" }));
  assert.equal(approver.socket.skipped.some((f) => f.event === "exec.approval.requested"), false);

  const sender = await client(gateway);
  const reply = await chatTurn(sender, "host_exec visible");
  const asked = await nextEvent(approver, "exec.approval.requested");
  const listed = ok(await approver.request("exec.approval.list", {})) as unknown as { id: string }[];
  assert.deepEqual(listed.map((a) => a.id), [asked.id]);
  ok(await approver.request("exec.approval.resolve", { id: asked.id, decision: "allow-once" }));
  await reply();
  await gateway.stop();
});
