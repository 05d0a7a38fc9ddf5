// A durable turn on Redis publishes its end's events (the reply's `session.message`, the `agent` lifecycle
// end, the `chat` final, `sessions.changed`) in the batch of the reply's writes, through a publish guarded
// as they are (`EventBus.publishIfHeld`): one round trip fewer before the sender's final. The guard must
// keep an "ok" final from escaping when the writes were refused (the lease lost), the events must keep
// today's order for every client, and a reply whose line landed elsewhere than the turn expected (another
// writer appended meanwhile) is announced with its real place once the writes are answered. Redis frozen
// through that batch fails the turn with an error naming Redis, and no late "ok" reaches any replica.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { agentsModule } from "../lib/agents/mod.ts";
import type { ModelProvider } from "../lib/providers/types.ts";
import type { RedisStores } from "../lib/state/redis/stores.ts";
import type { Frame, MemorySocket } from "../lib/transports/memory.ts";
import { redisStores } from "../stores/redis.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";
import { recordingProvider } from "./_scripted_runtime.ts";
import { REDIS_SERVER, type RedisServer, redisTest, startRedisServer } from "./_redis_server.ts";

const SESSION = "agent:main:main";
const config = {
  gateway: { auth: { mode: "token" as const, token: TOKEN } },
  agents: { defaults: { model: "rec/m" } },
};

/** A model that answers "ok" at once, after `meanwhile` (run while the turn's lease is held). */
function modelDoing(meanwhile: () => Promise<void> = async () => {}): ModelProvider {
  const instant = recordingProvider().provider;
  return {
    ...instant,
    async *streamChat(request, signal) {
      await meanwhile();
      yield* instant.streamChat(request, signal);
    },
  };
}

/** The frames of run `runId` (and the session's own events) up to its end's `sessions.changed`, in order. */
async function framesOf(socket: MemorySocket, runId: string): Promise<string[]> {
  const seen: string[] = [];
  // Frames that came before the sender's ack were passed over by its request: they come first.
  const early = socket.skipped.splice(0);
  for (;;) {
    const frame = early.shift() ?? await socket.waitFor(() => true, 5_000).catch((error) => {
      throw new Error(`${error.message} after ${JSON.stringify(seen)}`);
    });
    const described = describe(frame, runId);
    if (described) seen.push(described);
    if (described === "sessions.changed run") return seen;
  }
}

function describe(frame: Frame, runId: string): string | undefined {
  const p = frame.payload as Record<string, unknown> & { data?: { phase?: string } };
  if (frame.event === "chat" && p.runId === runId) return `chat ${p.state}`;
  if (frame.event === "agent" && p.runId === runId) return `agent ${p.stream} ${p.data?.phase ?? ""}`.trim();
  if (frame.event === "session.message") {
    const m = p.message as { role: string };
    return `session.message ${m.role} #${p.messageSeq}`;
  }
  if (frame.event === "sessions.changed") return `sessions.changed ${p.reason}`;
  return undefined;
}

/** Two replicas on one Redis, the sender's client on the first, a watcher on the second; both subscribed. */
async function twoReplicas(server: RedisServer, prefix: string, model: ModelProvider) {
  const bundles = await Promise.all([0, 1].map(() => redisStores({ url: server.url, keyPrefix: prefix })));
  const gateways = await Promise.all(
    bundles.map((stores) =>
      startGateway({ config, stores, modules: [agentsModule({ providers: { rec: model } })] })
    ),
  );
  const [sender, watcher] = await Promise.all(gateways.map((g) => client(g)));
  for (const c of [sender, watcher]) {
    assert.equal((await c.request("sessions.subscribe", {})).ok, true);
    assert.equal((await c.request("sessions.messages.subscribe", { key: SESSION })).ok, true);
  }
  return {
    bundles,
    sender,
    watcher,
    send: (runId: string) =>
      sender.request("chat.send", { sessionKey: "main", message: runId, idempotencyKey: runId }),
    async stop() {
      for (const c of [sender, watcher]) c.socket.close();
      for (const gateway of gateways) await gateway.stop();
      for (const stores of bundles) await stores.close();
    },
  };
}

/** The seq the store gave the reply's line of `runId`. */
async function replySeq(stores: RedisStores, runId: string): Promise<number | undefined> {
  const entry = (await stores.sessions.get(SESSION))!;
  const lines = await stores.transcripts.read({ agentId: entry.agentId, sessionId: entry.sessionId });
  return lines.find((line) => line.runId === runId && line.role === "assistant")?.seq;
}

/**
 * Runs a first turn ("before") to its end on both clients and checks that the script published that end:
 * the path works, so a refusal after it is the script's.
 */
async function endPublished(
  cluster: Awaited<ReturnType<typeof twoReplicas>>,
  answers: { states: string[]; published: boolean }[],
): Promise<void> {
  assert.equal((await cluster.send("before")).ok, true);
  await framesOf(cluster.watcher.socket, "before");
  await framesOf(cluster.sender.socket, "before");
  assert.deepEqual(answers.splice(0), [{ states: ["final"], published: true }]);
}

/**
 * What `stores`' guarded publishes answer, one entry per call with the `chat` states it carried: the end
 * events must ride the script (a test of what it refused fails if they stop doing so).
 */
function guardedAnswers(stores: RedisStores): { states: string[]; published: boolean }[] {
  const answers: { states: string[]; published: boolean }[] = [];
  const bus = stores.bus;
  const original = bus.publishIfHeld!.bind(bus);
  bus.publishIfHeld = async (events, guard) => {
    const published = await original(events, guard);
    const states = events.filter((e) => e.event === "chat").map((e) =>
      (e.payload as { state: string }).state
    );
    answers.push({ states, published });
    return published;
  };
  return answers;
}

if (REDIS_SERVER) {
  Deno.test("a turn's end events reach every client in today's order, the reply's line numbered as stored", async () => {
    const server = await startRedisServer(undefined, { appendfsync: "always" });
    const cluster = await twoReplicas(server, "order:", modelDoing());
    try {
      for (const runId of ["first", "second"]) {
        assert.equal((await cluster.send(runId)).ok, true);
        const [sent, watched] = await Promise.all([
          framesOf(cluster.sender.socket, runId),
          framesOf(cluster.watcher.socket, runId),
        ]);
        const seq = await replySeq(cluster.bundles[1], runId);
        const end = [
          `session.message assistant #${seq}`,
          "agent lifecycle end",
          "chat final",
          "sessions.changed run",
        ];
        assert.deepEqual(sent.slice(-7), [
          `session.message user #${seq! - 1}`,
          "agent assistant",
          "chat delta",
          ...end,
        ]);
        assert.deepEqual(watched.slice(-5), [
          `session.message user #${seq! - 1}`,
          "chat delta",
          end[0],
          ...end.slice(2),
        ]);
      }
    } finally {
      await cluster.stop();
      await server.stop();
    }
  });

  Deno.test("a turn whose lease is taken before its reply is written publishes no ok final, only its error", async () => {
    const server = await startRedisServer(undefined, { appendfsync: "always" });
    const raw = createClient({ url: server.url });
    await raw.connect();
    const heard: string[] = [];
    // Everything the bus carries, on every channel (the sender's own one too).
    const sub = raw.duplicate();
    await sub.connect();
    await sub.pSubscribe("stolen:bus*", (message) => heard.push(message));
    let steal = false;
    const cluster = await twoReplicas(
      server,
      "stolen:",
      modelDoing(async () => {
        if (!steal) return;
        // Another replica takes the session while the model works: its lease expired unnoticed.
        await raw.del(`stolen:lease:session:${SESSION}`);
        assert.ok(await cluster.bundles[1].leases.acquire(`session:${SESSION}`, "thief/1", 60_000));
      }),
    );
    const answers = guardedAnswers(cluster.bundles[0]);
    try {
      await endPublished(cluster, answers);
      steal = true;
      assert.equal((await cluster.send("stolen")).ok, true);
      const [sent, watched] = await Promise.all([
        framesOf(cluster.sender.socket, "stolen"),
        framesOf(cluster.watcher.socket, "stolen"),
      ]);
      for (const frames of [sent, watched]) {
        assert.ok(frames.includes("chat error"), JSON.stringify(frames));
        assert.ok(!frames.includes("chat final"), `an ok final escaped: ${JSON.stringify(frames)}`);
        assert.ok(!frames.some((f) => f.startsWith("session.message assistant")), JSON.stringify(frames));
      }
      await new Promise((r) => setTimeout(r, 100));
      const finals = heard.filter((m) => m.includes('"runId":"stolen"') && m.includes('"state":"final"'));
      assert.deepEqual(finals, [], "no ok final went over Redis");
      assert.deepEqual(answers, [{ states: ["final"], published: false }], "the script refused the ok end");
      assert.equal(await replySeq(cluster.bundles[1], "stolen"), undefined, "the reply was not written");
    } finally {
      await cluster.stop();
      await sub.close();
      await raw.close();
      await server.stop();
    }
  });

  Deno.test("a reply whose line lands after another writer's is announced with its real seq, then its final", async () => {
    const server = await startRedisServer(undefined, { appendfsync: "always" });
    let inject = false;
    const cluster = await twoReplicas(
      server,
      "inject:",
      modelDoing(async () => {
        if (!inject) return;
        const entry = (await cluster.bundles[1].sessions.get(SESSION))!;
        await cluster.bundles[1].transcripts.append({ agentId: entry.agentId, sessionId: entry.sessionId }, [
          { id: "injected", ts: 1, role: "assistant", content: "from elsewhere" },
        ]);
      }),
    );
    const answers = guardedAnswers(cluster.bundles[0]);
    try {
      await endPublished(cluster, answers);
      inject = true;
      assert.equal((await cluster.send("after")).ok, true);
      const [sent, watched] = await Promise.all([
        framesOf(cluster.sender.socket, "after"),
        framesOf(cluster.watcher.socket, "after"),
      ]);
      const seq = await replySeq(cluster.bundles[1], "after");
      for (const frames of [sent, watched]) {
        const reply = frames.indexOf(`session.message assistant #${seq}`);
        assert.ok(reply >= 0, `the reply with its stored seq ${seq}: ${JSON.stringify(frames)}`);
        assert.ok(frames.indexOf("chat final") > reply, JSON.stringify(frames));
      }
      assert.deepEqual(
        answers,
        [{ states: ["final"], published: false }],
        "the script saw another line there",
      );
    } finally {
      await cluster.stop();
      await server.stop();
    }
  });
}

redisTest(
  "a guarded publish that Redis does not answer within the bound fails, reaches no listener here, and its late run is not heard",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "frozen:" });
    const seen: string[] = [];
    stores.bus.subscribe((event) => seen.push(event.event));
    assert.ok(await stores.leases.acquire("session:f", "owner/1", 60_000));
    const admin = await redis.client();
    const overRedis: string[] = [];
    await (await redis.client()).pSubscribe("frozen:bus*", (message) => overRedis.push(message));
    // The server holds every command without closing a connection, as a frozen host or a partition does.
    await admin.sendCommand(["CLIENT", "PAUSE", "4500", "ALL"]);
    const published = stores.bus.publishIfHeld!([{
      event: "chat",
      payload: { state: "final" },
      sessionKey: "s",
    }], {
      lease: "session:f",
      owner: "owner/1",
    });
    await assert.rejects(published, (error: { code?: string }) => error.code === "UNAVAILABLE");
    assert.deepEqual(seen, [], "not delivered here: its turn fails and says so");
    // The server wakes and runs the script past its deadline: it publishes nothing; what follows is heard.
    await new Promise((r) => setTimeout(r, 1_800));
    stores.bus.publish({ event: "after", payload: {}, sessionKey: "s" });
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen, ["after"]);
    assert.deepEqual(overRedis.map((m) => JSON.parse(m).event.event), ["after"], "no other replica heard it");
  },
);
