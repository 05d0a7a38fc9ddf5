// The WS agent surface over the in-memory transport: two-stage `agent`, events, chat.*, sessions.*.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import type { Frame, GatewayConfig } from "../mod.ts";
import { client, connectParams, historyText, startGateway, TOKEN } from "./_helpers.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";

const config: GatewayConfig = { gateway: { auth: { mode: "token", token: TOKEN } } };

async function gatewayWithAgents() {
  return await startGateway({ config, modules: [agentsModule()] });
}

Deno.test("agent acks, streams agent events to the caller, then answers with the final result", async () => {
  const gateway = await gatewayWithAgents();
  const c = await client(gateway);
  c.socket.send({
    type: "req",
    id: "a-1",
    method: "agent",
    params: { message: "what is two and two", idempotencyKey: "k-1" },
  });
  const ack = await c.socket.waitFor((f) => f.type === "res" && f.id === "a-1");
  const ackPayload = ack.payload as { runId: string; status: string; acceptedAt: number };
  assert.equal(ack.ok, true);
  assert.equal(ackPayload.status, "accepted");
  assert.equal(typeof ackPayload.acceptedAt, "number");
  const final = await c.socket.waitFor((f) => f.type === "res" && f.id === "a-1");
  const finalPayload = final.payload as { runId: string; status: string; summary: string; result: unknown };
  assert.equal(finalPayload.runId, ackPayload.runId);
  assert.equal(finalPayload.status, "ok");
  assert.deepEqual((finalPayload.result as { payloads: unknown }).payloads, [
    { text: 'Local model reply #1: you said "what is two and two".' },
  ]);

  const agentEvents = c.socket.skipped.filter((f) => f.event === "agent").map((f) => f.payload as Frame);
  for (const event of agentEvents) assertMatchesSchema("AgentEvent", event);
  assert.deepEqual(agentEvents.map((e) => e.seq), agentEvents.map((_, i) => i + 1));
  assert.equal((agentEvents[0].data as { phase: string }).phase, "start");
  assert.equal((agentEvents.at(-1)!.data as { phase: string }).phase, "end");
  const deltas = agentEvents.filter((e) => e.stream === "assistant").map((e) =>
    (e.data as { delta: string }).delta
  );
  assert.equal(deltas.join(""), 'Local model reply #1: you said "what is two and two".');
  assert.ok(deltas.length > 3, "the reply streams in several deltas");

  const chatEvents = c.socket.skipped.filter((f) => f.event === "chat").map((f) => f.payload as Frame);
  for (const event of chatEvents) assertMatchesSchema("ChatEvent", event);
  assert.equal(chatEvents.at(-1)!.state, "final");
  await gateway.stop();
});

Deno.test("agent.wait reports the end of a run; a retried idempotency key starts no second run", async () => {
  const gateway = await gatewayWithAgents();
  const c = await client(gateway);
  const first = await c.request("agent", { message: "hello", idempotencyKey: "same" });
  const runId = (first.payload as { runId: string }).runId;
  const wait = await c.request("agent.wait", { runId, timeoutMs: 5000 });
  assert.equal((wait.payload as { status: string }).status, "ok");
  const second = await c.request("agent", { message: "hello", idempotencyKey: "same" });
  assert.equal((second.payload as { runId: string }).runId, runId);
  const history = await c.request("chat.history", { sessionKey: "main" });
  const messages = (history.payload as { messages: { role: string }[] }).messages;
  assert.deepEqual(messages.map((m) => m.role), ["user", "assistant"]);
  const unknown = await c.request("agent.wait", { runId: "nope", timeoutMs: 20 });
  assert.equal((unknown.payload as { status: string }).status, "timeout");
  await gateway.stop();
});

Deno.test("chat.send runs in the session, emits chat delta and final events, and history keeps turns", async () => {
  const gateway = await gatewayWithAgents();
  const c = await client(gateway);
  const sent = await c.request("chat.send", { sessionKey: "main", message: "first", idempotencyKey: "c1" });
  assert.equal((sent.payload as { status: string }).status, "started");
  const runId = (sent.payload as { runId: string }).runId;
  const final = await c.socket.waitFor((f) =>
    f.event === "chat" && (f.payload as Frame).state === "final" && (f.payload as Frame).runId === runId
  );
  assert.equal((final.payload as Frame).sessionKey, "agent:main:main");
  await c.request("chat.send", { sessionKey: "agent:main:main", message: "second", idempotencyKey: "c2" });
  await c.socket.waitFor((f) => f.event === "chat" && (f.payload as Frame).state === "final");
  const history = await c.request("chat.history", { sessionKey: "main" });
  const messages =
    (history.payload as { messages: { role: string; content: string | { text: string }[] }[] }).messages;
  assert.deepEqual(messages.map(historyText), [
    "first",
    'Local model reply #1: you said "first".',
    "second",
    'Local model reply #2: you said "second".',
  ]);
  const list = await c.request("sessions.list", {});
  const sessions = (list.payload as { sessions: Record<string, unknown>[] }).sessions;
  assert.equal(sessions.length, 1);
  assertMatchesSchema("SessionRow", sessions[0]);
  assert.equal(sessions[0].key, "agent:main:main");
  assert.equal(sessions[0].model, "scripted-1");
  const got = await c.request("sessions.get", { key: "main" });
  assert.equal((got.payload as { session: { sessionId: string } }).session.sessionId, sessions[0].sessionId);
  await gateway.stop();
});

Deno.test("sessions.reset needs admin and starts an empty transcript", async () => {
  const gateway = await gatewayWithAgents();
  const writer = await client(gateway);
  await writer.request("agent", { message: "remember me", idempotencyKey: "r1" });
  const denied = await writer.request("sessions.reset", { key: "main" });
  assert.equal((denied.error as { code: string }).code, "FORBIDDEN");
  const admin = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
  const reset = await admin.request("sessions.reset", { key: "main" });
  assert.equal(reset.ok, true);
  const history = await admin.request("chat.history", { sessionKey: "main" });
  assert.deepEqual((history.payload as { messages: unknown[] }).messages, []);
  await gateway.stop();
});

Deno.test("chat.abort stops a queued run cleanly and the run reports the abort", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const gateway = await startGateway({
    config: { ...config, models: { providers: {} }, agents: { defaults: { model: "slow/m" } } },
    modules: [agentsModule({
      providers: {
        slow: {
          id: "slow",
          api: "test",
          async *streamChat(_request, signal) {
            await gate;
            signal.throwIfAborted();
            yield { type: "text", text: "done" };
            yield { type: "finish", finishReason: "stop" };
          },
          completeChat: () => Promise.reject(new Error("unused")),
          embed: () => Promise.reject(new Error("unused")),
          listModels: () => Promise.resolve([]),
        },
      },
    })],
  });
  const c = await client(gateway);
  const first = await c.request("chat.send", { sessionKey: "main", message: "one", idempotencyKey: "q1" });
  const second = await c.request("chat.send", { sessionKey: "main", message: "two", idempotencyKey: "q2" });
  const queuedRun = (second.payload as { runId: string }).runId;
  const abort = await c.request("chat.abort", { sessionKey: "main", runId: queuedRun });
  assert.deepEqual(abort.payload, { ok: true, aborted: true, runIds: [queuedRun] });
  const waited = await c.request("agent.wait", { runId: queuedRun, timeoutMs: 1000 });
  assert.equal((waited.payload as { status: string }).status, "error");
  release();
  const firstRun = (first.payload as { runId: string }).runId;
  const done = await c.request("agent.wait", { runId: firstRun, timeoutMs: 1000 });
  assert.equal((done.payload as { status: string }).status, "ok");
  await gateway.stop();
});

Deno.test("models.list includes the built-in local models and configured ones; unknown agents are refused", async () => {
  const gateway = await startGateway({
    config: {
      ...config,
      models: {
        providers: {
          ollama: {
            baseUrl: "http://127.0.0.1:9/v1",
            api: "openai-completions",
            models: [{ id: "llama3", name: "Llama 3" }],
          },
        },
      },
    },
    modules: [agentsModule()],
  });
  const c = await client(gateway, connectParams({ scopes: ["operator.read"] }));
  const models = await c.request("models.list", {});
  assertMatchesSchema("ModelsListResult", models.payload);
  const rows = (models.payload as { models: { id: string; provider: string }[] }).models;
  assert.deepEqual(rows.map((r) => `${r.provider}/${r.id}`), [
    "local/scripted-1",
    "local/hash-embed-1",
    "ollama/llama3",
  ]);
  const writer = await client(gateway);
  const bad = await writer.request("agent", { message: "x", idempotencyKey: "u", agentId: "ghost" });
  assert.equal((bad.error as { code: string }).code, "NOT_FOUND");
  assert.match((bad.error as { message: string }).message, /Unknown agent 'ghost'/);
  await gateway.stop();
});

Deno.test("status names each agent's model and flags the built-in local one", async () => {
  const gateway = await startGateway({ modules: [agentsModule()] });
  const c = await client(gateway);
  const status = (await c.request("status")).payload as {
    defaultAgentId: string;
    agents: { id: string; model: string; builtInLocalModel: boolean }[];
  };
  assert.equal(status.defaultAgentId, "main");
  assert.deepEqual(status.agents.map((a) => [a.id, a.builtInLocalModel]), [["main", true]]);
  assert.match(status.agents[0].model, /^local\//);
  await gateway.stop();
});

Deno.test("sessions.changed goes to sockets that called sessions.subscribe, not to every reader", async () => {
  const gateway = await startGateway({ modules: [agentsModule()] });
  const subscriber = await client(gateway);
  const bystander = await client(gateway);
  assert.equal((await subscriber.request("sessions.subscribe", {})).ok, true);
  const sender = await client(gateway);
  const sent = await sender.request("chat.send", {
    sessionKey: "main",
    message: "hello",
    idempotencyKey: "sc-1",
  });
  await sender.request("agent.wait", { runId: (sent.payload as { runId: string }).runId, timeoutMs: 5000 });
  const changed = await subscriber.socket.waitFor((f) => f.event === "sessions.changed");
  assert.equal((changed.payload as { sessionKey: string }).sessionKey, "agent:main:main");
  await bystander.request("health");
  assert.equal(
    [...bystander.socket.skipped].some((f) => f.event === "sessions.changed"),
    false,
    "a socket that did not subscribe gets no sessions.changed",
  );
  await gateway.stop();
});
