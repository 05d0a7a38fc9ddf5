// The store contracts of the agents' state (sessions, transcripts, runs, leases, the event bus) against
// the in-process and JSONL implementations, and what they buy: two runtimes (two replicas) sharing one
// set of stores never run one session at once, wait for and abort each other's runs, and number one
// transcript without gaps.
import assert from "node:assert/strict";
import { InProcessEventBus } from "../lib/bus/event-bus.ts";
import { JsonlSessionStore, JsonlTranscriptStore } from "../lib/state/jsonl-stores.ts";
import { MemoryRunStore } from "../lib/state/runs.ts";
import { AgentRuntime, type AgentRuntimeOptions, type AgentStores } from "../lib/agents/runtime.ts";
import { MemorySessionStore, MemoryTranscriptStore } from "../lib/state/sessions.ts";
import { createLogger, MemoryLogSink } from "../lib/log/logger.ts";
import type { ChatStreamEvent, ModelProvider } from "../lib/providers/types.ts";
import { MemoryLeaseStore } from "../lib/state/leases.ts";
import { completeStores, memoryStores } from "../lib/state/stores.ts";
import { busContract } from "./contract/_bus.ts";
import { leasesContract } from "./contract/_leases.ts";
import { runsContract } from "./contract/_runs.ts";
import { sessionsContract } from "./contract/_sessions.ts";
import { transcriptsContract } from "./contract/_transcripts.ts";
import { client, startGateway, tempDir, TOKEN } from "./_helpers.ts";
import { agentsModule } from "../lib/agents/mod.ts";
import { openAiHttpModule } from "../lib/http/openai/openai-module.ts";
import type { Gateway } from "../lib/gateway.ts";
import type { Frame, MemorySocket } from "../lib/transports/memory.ts";

sessionsContract("memory", () => new MemorySessionStore());
sessionsContract("jsonl", async () => new JsonlSessionStore(await tempDir("openclaw-sessions-")));
transcriptsContract("memory", () => new MemoryTranscriptStore());
transcriptsContract("jsonl", async () => new JsonlTranscriptStore(await tempDir("openclaw-transcripts-")));
transcriptsContract(
  "jsonl, no cache",
  async () => new JsonlTranscriptStore(await tempDir("openclaw-transcripts-"), 0),
);
runsContract("memory", (now) => new MemoryRunStore(now));
leasesContract("memory", (now) => new MemoryLeaseStore(now));
busContract("in-process", () => new InProcessEventBus());

/** A model that holds every turn until the test lets it finish, and counts turns running per session. */
function gatedModel() {
  let running = 0;
  let most = 0;
  const started: Array<() => void> = [];
  const waiting: Array<PromiseWithResolvers<void>> = [];
  const provider: ModelProvider = {
    id: "gated",
    api: "test",
    async *streamChat(_request, signal): AsyncIterable<ChatStreamEvent> {
      running++;
      most = Math.max(most, running);
      const gate = Promise.withResolvers<void>();
      waiting.push(gate);
      started.splice(0).forEach((notify) => notify());
      try {
        await Promise.race([
          gate.promise,
          new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
        ]);
        yield { type: "text", text: "ok" };
        yield {
          type: "finish",
          finishReason: "stop",
          usage: { inputTokens: 2, outputTokens: 1, totalTokens: 3 },
        };
      } finally {
        running--;
      }
    },
    completeChat: () => Promise.reject(new Error("unused")),
    embed: () => Promise.reject(new Error("unused")),
    listModels: () => Promise.resolve([]),
  };
  return {
    provider,
    most: () => most,
    running: () => running,
    /** Resolves once a turn is inside the model (now, or when the next one gets there). */
    started: () =>
      new Promise<void>((resolve) =>
        running > waiting.length - 1 && waiting.length ? resolve() : started.push(resolve)
      ),
    /** Lets the oldest waiting turn finish. */
    finishOne: () => waiting.shift()?.resolve(),
    waitingCount: () => waiting.length,
  };
}

/** One replica's runtime over the shared stores. */
function replica(
  stores: AgentStores,
  provider: ModelProvider,
  lease: AgentRuntimeOptions["lease"] = { ttlMs: 2_000, retryMs: 5 },
) {
  return new AgentRuntime({
    config: () => ({ agents: { defaults: { model: "gated/m" } } }),
    env: {},
    now: () => Date.now(),
    logger: createLogger({ sinks: [new MemoryLogSink()] }),
    stores,
    lease,
    fetch: () => Promise.reject(new Error("no network")),
    providers: { gated: provider },
  });
}

const session = { sessionKey: "agent:main:main", agentId: "main", origin: { kind: "chat" as const } };
const say = (content: string) => ({ ...session, messages: [{ role: "user" as const, content }] });

async function until(check: () => boolean, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("two runtimes sharing one set of stores never run turns of one session at once", async () => {
  const stores = memoryStores();
  const model = gatedModel();
  const a = replica(stores, model.provider);
  const b = replica(stores, model.provider);
  try {
    const runs = [
      a.startTurn(say("a1")),
      b.startTurn(say("b1")),
      a.startTurn(say("a2")),
      b.startTurn(say("b2")),
    ];
    for (let turn = 0; turn < runs.length; turn++) {
      await until(() => model.waitingCount() === 1, `turn ${turn + 1} in the model`);
      // Give the other replica time to (wrongly) start a second turn of the session.
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(model.running(), 1);
      model.finishOne();
      await until(() => model.waitingCount() === 0, `turn ${turn + 1} to leave the model`);
    }
    const outcomes = await Promise.all(runs.map((run) => run.done));
    assert.deepEqual(outcomes.map((o) => o.status), ["ok", "ok", "ok", "ok"]);
    assert.equal(model.most(), 1);
    // Both replicas numbered one transcript: every line once, no gap.
    const entry = (await stores.sessions.get(session.sessionKey))!;
    const lines = await stores.transcripts.read(entry);
    assert.deepEqual(lines.map((l) => l.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(entry.inputTokens, 8, "every run's usage was added");
    assert.equal(entry.outputTokens, 4);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("a session whose lease a dead replica holds runs once that lease expires", async () => {
  const stores = memoryStores();
  const model = gatedModel();
  const runtime = replica(stores, model.provider, { ttlMs: 2_000, retryMs: 5 });
  try {
    assert.notEqual(await stores.leases.acquire(`session:${session.sessionKey}`, "dead-replica", 150), null);
    const started = Date.now();
    const run = runtime.startTurn(say("hello"));
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(model.running(), 0, "the turn waits while the lease is held");
    await until(() => model.waitingCount() === 1, "the turn to start");
    assert.ok(Date.now() - started >= 140, "not before the lease expired");
    model.finishOne();
    assert.equal((await run.done).status, "ok");
  } finally {
    runtime.close();
  }
});

Deno.test("agent.wait on another replica: a run that already finished, and one that finishes later", async () => {
  const stores = memoryStores();
  const model = gatedModel();
  const a = replica(stores, model.provider);
  const b = replica(stores, model.provider);
  try {
    const first = a.startTurn(say("one"));
    await until(() => model.waitingCount() === 1, "the first turn in the model");
    model.finishOne();
    await first.done;
    await until(() => model.waitingCount() === 0, "the first turn to end");
    const finished = await b.wait(first.runId, 1_000);
    assert.equal(finished.status, "ok");
    assert.equal(typeof finished.endedAt, "number");

    const second = a.startTurn(say("two"));
    const waited = b.wait(second.runId, 2_000);
    await until(() => model.waitingCount() === 1, "the second turn in the model");
    model.finishOne();
    assert.equal((await waited).status, "ok");
    assert.deepEqual(await b.wait("unknown-run", 20), { runId: "unknown-run", status: "timeout" });
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("abort from another replica reaches the run where it runs, queued runs first", async () => {
  const stores = memoryStores();
  const model = gatedModel();
  const a = replica(stores, model.provider);
  const b = replica(stores, model.provider);
  try {
    const running = a.startTurn(say("one"));
    const queued = a.startTurn(say("two"));
    await until(() => model.waitingCount() === 1, "the first turn in the model");
    const aborted = await b.abort(session.sessionKey);
    assert.deepEqual(aborted, [queued.runId, running.runId]);
    assert.deepEqual((await Promise.all([running.done, queued.done])).map((o) => o.status), [
      "aborted",
      "aborted",
    ]);
    assert.equal((await b.wait(running.runId, 1_000)).status, "error");
    assert.deepEqual(await stores.runs.active(session.sessionKey), []);
    assert.deepEqual(await b.abort(session.sessionKey), [], "nothing left to abort");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("tick never goes through the (shared) bus, yet every socket still gets it", async () => {
  const bus = new InProcessEventBus();
  const seen: string[] = [];
  bus.subscribe((event) => seen.push(event.event));
  const gateway = await startGateway({ stores: { bus }, timing: { tickIntervalMs: 20 } });
  try {
    const c = await client(gateway);
    await c.socket.waitFor((frame) => frame.event === "tick");
    assert.equal(seen.includes("tick"), false);
  } finally {
    await gateway.stop();
    await bus.close();
  }
});

Deno.test("internal bus events (run ended, abort) never reach a socket", async () => {
  const gateway = await startGateway();
  try {
    const c = await client(gateway);
    gateway.bus.publish({ event: "agents.run.ended", payload: { runId: "r" }, internal: true });
    gateway.bus.publish({ event: "marker", payload: {} });
    await c.socket.waitFor((frame) => frame.event === "marker");
    assert.equal(c.socket.skipped.some((frame) => frame.event === "agents.run.ended"), false);
  } finally {
    await gateway.stop();
  }
});

/** Two gateways (two replicas) over one stores bundle, with the Responses API on. */
async function twoReplicas() {
  const stores = memoryStores();
  const config = {
    gateway: {
      auth: { mode: "token" as const, token: TOKEN },
      http: { endpoints: { responses: { enabled: true } } },
    },
    agents: { defaults: { model: { primary: "local/scripted-1" } } },
  };
  const start = async () => {
    const agents = agentsModule();
    return await startGateway({ config, stores, modules: [agents, openAiHttpModule({ agents })] });
  };
  const a = await start();
  const b = await start();
  return {
    stores,
    a,
    b,
    async [Symbol.asyncDispose]() {
      await a.stop();
      await b.stop();
    },
  };
}

/** A frame the socket got already (passed over by an earlier wait) or gets next. */
async function seen(socket: MemorySocket, predicate: (frame: Frame) => boolean): Promise<Frame> {
  return socket.skipped.find(predicate) ?? await socket.waitFor(predicate);
}

async function respond(gateway: Gateway, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await gateway.fetch(
    new Request("http://gateway/v1/responses", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    { remoteAddress: "127.0.0.1" },
  );
  assert.equal(response.status, 200);
  return await response.json();
}

Deno.test("previous_response_id continues the conversation on another replica", async () => {
  await using replicas = await twoReplicas();
  const first = await respond(replicas.a, { model: "openclaw", input: "first" });
  const next = await respond(replicas.b, {
    model: "openclaw",
    input: "second",
    previous_response_id: first.id,
  });
  const text = (next.output as { content: { text: string }[] }[])[0].content[0].text;
  assert.equal(text, 'Local model reply #2: you said "second".');
});

Deno.test("a turn started on one replica reaches the subscribers and agent.wait of another", async () => {
  await using replicas = await twoReplicas();
  const watcher = await client(replicas.b);
  await watcher.request("sessions.subscribe", {});
  await watcher.request("sessions.messages.subscribe", { key: "main" });
  const sender = await client(replicas.a);
  const sent = await sender.request("chat.send", {
    sessionKey: "main",
    message: "hello",
    idempotencyKey: "x1",
  });
  const runId = (sent.payload as { runId: string }).runId;
  const waited = await watcher.request("agent.wait", { runId, timeoutMs: 5_000 });
  assert.equal((waited.payload as { status: string }).status, "ok");
  const message = await seen(watcher.socket, (f) => f.event === "session.message");
  assert.equal((message.payload as { messageSeq: number }).messageSeq, 1);
  await seen(watcher.socket, (f) => f.event === "chat" && (f.payload as { state: string }).state === "final");
  await seen(watcher.socket, (f) => f.event === "sessions.changed");
  // The agent stream goes only to the socket that started the run.
  await seen(sender.socket, (f) => f.event === "agent");
  assert.equal(watcher.socket.skipped.some((f) => f.event === "agent"), false);
});

Deno.test("a turn that outlasts its lease TTL keeps the lease by renewing it", async () => {
  // The leases run on a clock the test moves a third of a TTL at a time, each step after a renewal: a
  // loaded machine that delays the renewal timer delays the clock too, instead of expiring the lease.
  const clock = { now: Date.now() };
  const leases = new MemoryLeaseStore(() => clock.now);
  let renewals = 0;
  // Given to completeStores, not set on a memoryStores() bundle, whose guarded writes check its own leases.
  const stores = completeStores({
    leases: {
      acquire: (key, owner, ttlMs) => leases.acquire(key, owner, ttlMs),
      renew: (key, token, ttlMs) => (renewals++, leases.renew(key, token, ttlMs)),
      release: (key, token) => leases.release(key, token),
    },
  });
  const model = gatedModel();
  // The holders judge their deadlines by the same clock: a renewal timer the machine delays past the TTL
  // in real time is not a lapse.
  const lease = { ttlMs: 60, retryMs: 5, now: () => clock.now };
  const a = replica(stores, model.provider, lease);
  const b = replica(stores, model.provider, lease);
  try {
    const first = a.startTurn(say("long"));
    await until(() => model.waitingCount() === 1, "the first turn in the model");
    const second = b.startTurn(say("next"));
    // Five TTLs: without renewal the lease would have expired and the second turn started.
    for (let step = 0; step < 15; step++) {
      const before = renewals;
      clock.now += lease.ttlMs / 3;
      await until(() => renewals > before, "a renewal");
    }
    assert.equal(model.running(), 1);
    model.finishOne();
    await until(() => model.waitingCount() === 1, "the second turn in the model");
    model.finishOne();
    assert.deepEqual([(await first.done).status, (await second.done).status], ["ok", "ok"]);
    assert.equal(model.most(), 1);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("a turn whose lease is lost stops: another replica may own the session now", async () => {
  const stores = memoryStores();
  const leases = stores.leases;
  // A store that reports every renewal as lost, as after a pause longer than the TTL.
  stores.leases = {
    acquire: (key, owner, ttlMs) => leases.acquire(key, owner, ttlMs),
    renew: () => Promise.resolve(false),
    release: (key, token) => leases.release(key, token),
  };
  const model = gatedModel();
  const runtime = replica(stores, model.provider, { ttlMs: 60, retryMs: 5 });
  try {
    const run = runtime.startTurn(say("hello"));
    assert.equal((await run.done).status, "aborted");
    assert.equal(model.running(), 0);
  } finally {
    runtime.close();
  }
});
