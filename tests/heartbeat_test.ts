// The per-agent heartbeat: scheduled turns in the main session, the `heartbeat` event, `last-heartbeat`,
// `set-heartbeats`, acknowledgements swallowed, config reload and stop, and one runner per cluster.
import assert from "node:assert/strict";
import {
  agentsModule,
  type Channel,
  type ChannelFactory,
  channelsModule,
  type ChatRequest,
  type Frame,
  type Gateway,
  type GatewayConfig,
  type GatewayStores,
  memoryStores,
  type ModelProvider,
} from "../mod.ts";
import { parseDurationMs } from "../lib/config/duration.ts";
import { validateConfig } from "../lib/config/schema.ts";
import { AgentCatalog } from "../lib/agents/catalog.ts";
import { HEARTBEAT_PROMPT, heartbeatSummary } from "../lib/agents/heartbeat-config.ts";
import { HeartbeatEventSchema } from "../lib/agents/heartbeat-events.ts";
import { withinActiveHours } from "../lib/agents/heartbeat-hours.ts";
import { classifyHeartbeatReply } from "../lib/agents/heartbeat-reply.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";
import { assertMatchesSchema, schemaScope } from "./_protocol_schema.ts";
import { scriptedModel } from "./_scripted_runtime.ts";

function config(
  heartbeat: Record<string, unknown> | undefined,
  extra: Record<string, unknown> = {},
): GatewayConfig {
  return {
    gateway: { auth: { mode: "token" as const, token: TOKEN } },
    agents: { defaults: { model: "fake/m", ...(heartbeat ? { heartbeat } : {}) } },
    ...extra,
  };
}

async function heartbeatGateway(
  heartbeat: Record<string, unknown> | undefined,
  reply: () => string,
  extra: { config?: Record<string, unknown>; channels?: Record<string, ChannelFactory> } = {},
): Promise<{ gateway: Gateway; calls: ChatRequest[]; stores: GatewayStores }> {
  const { provider, calls } = scriptedModel(reply);
  const agents = agentsModule({ providers: { fake: provider } });
  const channels = extra.channels ? [channelsModule({ agents, factories: extra.channels })] : [];
  const stores = memoryStores();
  const gateway = await startGateway({
    stores,
    config: config(heartbeat, extra.config),
    modules: [agents, ...channels],
  });
  return { gateway, calls, stores };
}

const userText = (request: ChatRequest) => request.messages.filter((m) => m.role === "user").at(-1)?.content;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await delay(10);
  }
}

const isHeartbeat = (f: Frame) => f.type === "event" && f.event === "heartbeat";

Deno.test("a heartbeat turn runs on schedule in the main session and its event reaches operators", async () => {
  const { gateway, calls, stores } = await heartbeatGateway(
    { every: "150ms", target: "none" },
    () => "HEARTBEAT_OK",
  );
  const reader = await client(gateway, {
    minProtocol: 4,
    maxProtocol: 4,
    client: { id: "gateway-client", version: "0.0.1", platform: "linux", mode: "backend" },
    role: "operator",
    scopes: ["operator.read"],
    auth: { token: TOKEN },
  });
  const features = reader.hello.features as { events: string[]; methods: string[] };
  assert.ok(features.events.includes("heartbeat"));
  assert.ok(features.methods.includes("last-heartbeat") && features.methods.includes("set-heartbeats"));

  const frame = await reader.socket.waitFor(isHeartbeat);
  assertMatchesSchema("EventFrame", frame);
  const event = HeartbeatEventSchema.parse(frame.payload);
  assert.deepEqual({ ...event, ts: 0, durationMs: 0 }, {
    ts: 0,
    status: "ok-token",
    reason: "interval",
    durationMs: 0,
    silent: true,
    indicatorType: "ok",
  });
  // The turn ran with OpenClaw's default prompt, in the agent's main session, whose transcript keeps it;
  // chat history hides the prompt and the acknowledgement, as the reference's history view does.
  assert.deepEqual(userText(calls[0]), HEARTBEAT_PROMPT);
  const session = await stores.sessions.get("agent:main:main");
  assert.ok(session);
  const lines = await stores.transcripts.read(session);
  assert.deepEqual(lines.slice(0, 2).map((l) => [l.role, l.content]), [
    ["user", HEARTBEAT_PROMPT],
    ["assistant", "HEARTBEAT_OK"],
  ]);
  const history = await gateway.call("chat.history", { sessionKey: "agent:main:main" }) as {
    messages: unknown[];
  };
  assert.deepEqual(history.messages, []);

  assert.deepEqual(schemaScope("last-heartbeat"), "operator.read");
  assert.deepEqual(schemaScope("set-heartbeats"), "operator.admin");
  const last = await reader.request("last-heartbeat", {});
  assert.ok(last.ok);
  assert.deepEqual(HeartbeatEventSchema.parse(last.payload).status, "ok-token");
  // Reading is not switching: set-heartbeats needs admin.
  const refused = await reader.request("set-heartbeats", { enabled: false });
  assert.deepEqual(refused.ok, false);
  await gateway.stop();
});

Deno.test("a NO_REPLY heartbeat is swallowed: no chat text, an ok-token event", async () => {
  const { gateway } = await heartbeatGateway({ every: "100ms", target: "none" }, () => "NO_REPLY");
  const c = await client(gateway);
  const final = await c.socket.waitFor((f) =>
    f.type === "event" && f.event === "chat" && (f.payload as { state: string }).state === "final"
  );
  const payload = final.payload as Record<string, unknown>;
  assert.deepEqual(payload.sessionKey, "agent:main:main");
  assert.deepEqual(payload.message, undefined);
  const event = (await c.socket.waitFor(isHeartbeat)).payload as Record<string, unknown>;
  assert.deepEqual([event.status, event.silent], ["ok-token", true]);
  await gateway.stop();
  // No delta of the acknowledgement was ever streamed to the chat.
  const deltas = c.socket.skipped.filter((f) =>
    f.type === "event" && f.event === "chat" && (f.payload as { state: string }).state === "delta"
  );
  assert.deepEqual(deltas.length, 0);
});

Deno.test("an alert with target none is not delivered, and chat shows it", async () => {
  const { gateway } = await heartbeatGateway({ every: "100ms", target: "none" }, () => "Disk 97% full");
  const c = await client(gateway);
  const final = await c.socket.waitFor((f) =>
    f.type === "event" && f.event === "chat" && (f.payload as { state: string }).state === "final"
  );
  const message = (final.payload as { message: { content: { text: string }[] } }).message;
  assert.equal(message.content[0].text, "Disk 97% full");
  const event = HeartbeatEventSchema.parse((await c.socket.waitFor(isHeartbeat)).payload);
  assert.deepEqual([event.status, event.reason, event.preview], ["skipped", "target-none", "Disk 97% full"]);
  assert.deepEqual(event.message, "Heartbeat delivery is disabled by configuration (target: none).");
  const history = await gateway.call("chat.history", { sessionKey: "main" }) as {
    messages: { role: string }[];
  };
  assert.ok(history.messages.length > 0);
  assert.ok(history.messages.every((m) => m.role === "assistant"));
  await gateway.stop();
});

/** A channel that records what it sends. */
function captureChannel(sent: { to: string; text: string }[]): ChannelFactory {
  return (): Channel => ({
    id: "capture",
    label: "Capture",
    detailLabel: "Capture",
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    send: (message) => {
      sent.push({ to: message.to, text: message.text });
      return Promise.resolve({});
    },
    status: () => ({
      accountId: "default",
      enabled: true,
      configured: true,
      running: true,
      lastError: null,
      lastStartAt: null,
      lastStopAt: null,
      lastInboundAt: null,
      lastOutboundAt: null,
    }),
    probe: () => Promise.resolve({ ok: true, elapsedMs: 0 }),
  });
}

Deno.test("an alert goes to the owner; without an owner the poll is skipped before any turn", async () => {
  const sent: { to: string; text: string }[] = [];
  const channels = { capture: captureChannel(sent) };
  const withOwner = await heartbeatGateway(
    { every: "100ms", ackMaxChars: 5 },
    () => "Build failed. HEARTBEAT_OK",
    {
      channels,
      config: { channels: { capture: {} }, commands: { ownerAllowFrom: ["capture:alice"] } },
    },
  );
  const c = await client(withOwner.gateway);
  const event = HeartbeatEventSchema.parse((await c.socket.waitFor(isHeartbeat)).payload);
  await withOwner.gateway.stop();
  assert.deepEqual([event.status, event.channel, event.to, event.indicatorType], [
    "sent",
    "capture",
    "alice",
    "alert",
  ]);
  // More than ackMaxChars besides the token: an alert, delivered without the token.
  assert.deepEqual(sent[0], { to: "alice", text: "Build failed." });

  const noOwner = await heartbeatGateway({ every: "100ms" }, () => "never asked", {
    channels,
    config: { channels: { capture: {} } },
  });
  const d = await client(noOwner.gateway);
  const skipped = HeartbeatEventSchema.parse((await d.socket.waitFor(isHeartbeat)).payload);
  await noOwner.gateway.stop();
  assert.deepEqual([skipped.status, skipped.reason], ["skipped", "no-route"]);
  assert.deepEqual(noOwner.calls.length, 0);
});

Deno.test("every 0m disables the heartbeat, and set-heartbeats switches it off and on", async () => {
  const off = await heartbeatGateway({ every: "0m", target: "none" }, () => "NO_REPLY");
  await delay(400);
  assert.deepEqual(off.calls.length, 0);
  const health = await off.gateway.call("health") as { heartbeatSeconds: number };
  assert.deepEqual(health.heartbeatSeconds, 0);
  assert.deepEqual(await off.gateway.call("last-heartbeat", {}), null);
  await off.gateway.stop();

  const on = await heartbeatGateway({ every: "100ms", target: "none" }, () => "NO_REPLY");
  assert.deepEqual(await on.gateway.call("set-heartbeats", { enabled: false }), { ok: true, enabled: false });
  await delay(400);
  assert.deepEqual(on.calls.length, 0);
  await on.gateway.call("set-heartbeats", { enabled: true });
  await until(() => on.calls.length > 0);
  await on.gateway.stop();
});

Deno.test("a config reload changes the interval without a restart", async () => {
  const { gateway, calls } = await heartbeatGateway({ every: "10m", target: "none" }, () => "NO_REPLY");
  assert.deepEqual((await gateway.call("health") as { heartbeatSeconds: number }).heartbeatSeconds, 600);
  await delay(300);
  assert.deepEqual(calls.length, 0);
  const faster = gateway.updateConfig(config({ every: "100ms", target: "none" }));
  assert.ok(faster.ok, JSON.stringify(faster));
  await until(() => calls.length >= 2);
  const stopped = gateway.updateConfig(config({ every: "0m", target: "none" }));
  assert.ok(stopped.ok, JSON.stringify(stopped));
  await delay(150);
  const settled = calls.length;
  await delay(400);
  assert.deepEqual(calls.length, settled);
  await gateway.stop();
});

Deno.test("stop() stops the heartbeat", async () => {
  const { gateway, calls } = await heartbeatGateway({ every: "80ms", target: "none" }, () => "NO_REPLY");
  await until(() => calls.length > 0);
  await gateway.stop();
  const after = calls.length;
  await delay(400);
  assert.deepEqual(calls.length, after);
});

Deno.test("a cadence longer than a timer can wait (30d) runs no turn early", async () => {
  const { gateway, calls } = await heartbeatGateway({ every: "30d", target: "none" }, () => "NO_REPLY");
  await delay(300);
  assert.equal(calls.length, 0, "a 30-day heartbeat must not fire within 300 ms");
  await gateway.stop();
});

Deno.test("two replicas over one store bundle run one heartbeat; both report it; it moves when its holder stops", async () => {
  const stores = memoryStores();
  const { provider, calls } = scriptedModel(() => "NO_REPLY");
  const times: number[] = [];
  const timed: ModelProvider = {
    ...provider,
    streamChat(request, signal) {
      times.push(Date.now());
      return provider.streamChat(request, signal);
    },
  };
  const replica = () =>
    startGateway({
      stores,
      config: config({ every: "200ms", target: "none" }),
      modules: [agentsModule({ providers: { fake: timed } })],
    });
  const [a, b] = [await replica(), await replica()];
  const watcher = await client(b);
  await watcher.socket.waitFor(isHeartbeat);
  await until(() => calls.length >= 4);
  // Two runners would each beat every 200 ms, in pairs a few ms apart.
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  assert.ok(Math.min(...gaps) >= 100, JSON.stringify(gaps));
  assert.ok(await b.call("last-heartbeat", {}));
  // The first replica held the job; once it stops, the other takes the heartbeat over (its next lease try).
  await a.stop();
  const before = calls.length;
  await until(() => calls.length >= before + 2, 15_000);
  await b.stop();
});

Deno.test("health and status describe the default heartbeat as the reference does", async () => {
  // The reference gateway's health for a fresh install (shared/spec/captures/ws-session.json).
  assert.deepEqual(heartbeatSummary({}, new AgentCatalog(undefined), "main"), {
    enabled: true,
    every: "30m",
    everyMs: 1800000,
    prompt: "Follow the heartbeat monitor scratch context when provided. Recurring tasks are automations; " +
      "create or change their schedules with the automations tool, not heartbeat scratch. Do not infer or " +
      "repeat old tasks from prior chats. If nothing needs attention, reply NO_REPLY.",
    target: "owner",
    ackMaxChars: 300,
  });
  const two = { agents: { entries: { a: {}, b: {} } } };
  assert.deepEqual(heartbeatSummary(two, new AgentCatalog(two.agents), "a").every, "disabled");
  const gateway = await startGateway({ modules: [agentsModule()] });
  const health = await gateway.call("health") as { heartbeatSeconds: number };
  assert.deepEqual(health.heartbeatSeconds, 1800);
  const status = await gateway.call("status") as { heartbeat: unknown };
  assert.deepEqual(status.heartbeat, {
    defaultAgentId: "main",
    agents: [{ agentId: "main", enabled: true, every: "30m", everyMs: 1_800_000, waitingForRoute: true }],
  });
  await gateway.stop();
});

Deno.test("heartbeat replies: NO_REPLY and HEARTBEAT_OK within ackMaxChars are acknowledgements", () => {
  assert.deepEqual(classifyHeartbeatReply("", 300), { kind: "empty" });
  assert.deepEqual(classifyHeartbeatReply("NO_REPLY", 300), { kind: "ack" });
  assert.deepEqual(classifyHeartbeatReply(" no_reply. ", 300), { kind: "ack" });
  assert.deepEqual(classifyHeartbeatReply("**HEARTBEAT_OK**", 300), { kind: "ack" });
  assert.deepEqual(classifyHeartbeatReply("HEARTBEAT_OK all quiet", 300), { kind: "ack" });
  assert.deepEqual(classifyHeartbeatReply("HEARTBEAT_OK all quiet", 5), { kind: "alert", text: "all quiet" });
  assert.deepEqual(classifyHeartbeatReply("Call mum HEARTBEAT_OK now", 300), {
    kind: "alert",
    text: "Call mum HEARTBEAT_OK now",
  });
  assert.deepEqual(classifyHeartbeatReply("The server is down", 300), {
    kind: "alert",
    text: "The server is down",
  });
});

Deno.test("heartbeat config: durations and validation", () => {
  assert.deepEqual(parseDurationMs("30m", "m"), 1_800_000);
  assert.deepEqual(parseDurationMs("15", "m"), 900_000);
  assert.deepEqual(parseDurationMs("1h30m"), 5_400_000);
  assert.deepEqual(parseDurationMs("250ms"), 250);
  assert.deepEqual(parseDurationMs("0m"), 0);
  assert.deepEqual(parseDurationMs("m30"), undefined);
  const bad = validateConfig({ agents: { defaults: { heartbeat: { every: "soon" } } } });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.ok ? undefined : bad.issues[0].path, "agents.defaults.heartbeat.every");
  assert.ok(
    validateConfig({ agents: { entries: { ops: { heartbeat: { every: "1h", ackMaxChars: 50 } } } } }).ok,
  );
  assert.ok(validateConfig({ commands: { ownerAllowFrom: ["telegram:123456789", 42] } }).ok);
  assert.ok(!validateConfig({ commands: { ownerAllowFrom: "telegram:123456789" } }).ok);
});

Deno.test("activeHours: heartbeats outside the window are skipped as quiet-hours", async () => {
  const at = (iso: string) => Date.parse(iso);
  const day = { start: "09:00", end: "17:00", timezone: "UTC" };
  assert.equal(withinActiveHours(day, at("2026-01-01T10:00:00Z"), undefined), true);
  assert.equal(withinActiveHours(day, at("2026-01-01T17:00:00Z"), undefined), false);
  const night = { start: "22:00", end: "06:00", timezone: "UTC" };
  assert.equal(withinActiveHours(night, at("2026-01-01T23:30:00Z"), undefined), true);
  assert.equal(withinActiveHours(night, at("2026-01-01T05:59:00Z"), undefined), true);
  assert.equal(withinActiveHours(night, at("2026-01-01T12:00:00Z"), undefined), false);
  assert.equal(withinActiveHours({ start: "00:00", end: "24:00" }, at("2026-01-01T23:59:00Z"), "UTC"), true);
  // 14:00 UTC is 09:00 in New York in January; an unknown zone falls back to the user's.
  const ny = { start: "09:00", end: "10:00", timezone: "America/New_York" };
  assert.equal(withinActiveHours(ny, at("2026-01-01T14:00:00Z"), undefined), true);
  const unknown = { start: "09:00", end: "10:00", timezone: "Mars/Base" };
  assert.equal(withinActiveHours(unknown, at("2026-01-01T14:00:00Z"), "America/New_York"), true);

  const closed = { every: "100ms", target: "none", activeHours: { start: "08:00", end: "08:00" } };
  const { gateway, calls } = await heartbeatGateway(closed, () => "NO_REPLY");
  const c = await client(gateway);
  const event = HeartbeatEventSchema.parse((await c.socket.waitFor(isHeartbeat)).payload);
  await gateway.stop();
  assert.deepEqual([event.status, event.reason], ["skipped", "quiet-hours"]);
  assert.equal(calls.length, 0);
  const bad = validateConfig({
    agents: { defaults: { heartbeat: { activeHours: { start: "9am", end: "17:00" } } } },
  });
  assert.equal(bad.ok ? undefined : bad.issues[0].path, "agents.defaults.heartbeat.activeHours.start");
});
