// A durable turn on Redis (`appendfsync always`: every batch that writes costs an fsync before its answer)
// sends one batch before the model is called: the `chat.send` idempotency claim travels with the lease
// attempt, the reads and the guarded append of the input. Starting the turn before its claim is answered
// must not let a duplicate (on any replica) start anything: one input line, one model call, one run record,
// the duplicate's lease given back at once and its answer the first call's.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import type { ChatStreamEvent, ModelProvider } from "../lib/providers/types.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { redisStores } from "../stores/redis.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";
import { relay, type SentChunk } from "./_redis_relay.ts";

/** What went to Redis, in order: each chunk a connection sent, and the model's calls. */
type Sent = SentChunk | "model" | "ack";

/** A model that answers "ok" at once and logs each call. */
function loggedModel(log: Sent[]): ModelProvider {
  return {
    id: "rec",
    api: "test",
    async *streamChat(): AsyncIterable<ChatStreamEvent> {
      log.push("model");
      yield { type: "text", text: "ok" };
      yield { type: "finish", finishReason: "stop" };
    },
    completeChat: () => Promise.reject(new Error("not used")),
    embed: () => Promise.reject(new Error("not used")),
    listModels: () => Promise.resolve([]),
  };
}

const config = {
  gateway: { auth: { mode: "token" as const, token: TOKEN } },
  agents: { defaults: { model: "rec/m" } },
};

const isFinal = (runId: string) => (f: Frame) =>
  f.event === "chat" && (f.payload as { runId: string; state: string }).runId === runId &&
  (f.payload as { state: string }).state === "final";

if (REDIS_SERVER) {
  Deno.test("a chat.send turn on Redis sends one batch before the model is called: claim, lease attempt, reads and input together", async () => {
    const server = await startRedisServer(undefined, { appendfsync: "always" });
    const log: Sent[] = [];
    const proxy = relay(server.url, log);
    const stores = await redisStores({ url: proxy.url, keyPrefix: "rt:" });
    const gateway = await startGateway({
      config,
      stores,
      modules: [agentsModule({ providers: { rec: loggedModel(log) } })],
    });
    try {
      const sender = await client(gateway);
      const turn = async (key: string, message: string) => {
        const from = log.length;
        const answer = await sender.request("chat.send", {
          sessionKey: "main",
          message,
          idempotencyKey: key,
        });
        log.push("ack");
        assert.deepEqual(answer.payload, { runId: key, status: "started" });
        // Acknowledged only once the input is durable.
        const entry = (await stores.sessions.get("agent:main:main"))!;
        const lines = await stores.transcripts.read({ agentId: entry.agentId, sessionId: entry.sessionId });
        assert.ok(lines.some((l) => l.content === message), "the input is written before the ack");
        await (sender.socket.skipped.find(isFinal(key)) ?? sender.socket.waitFor(isFinal(key)));
        // The turn's last writes (its lease's release, its run's end) go after its final.
        await new Promise((r) => setTimeout(r, 50));
        const sent = log.slice(from);
        const subscriber = log.find((s) => typeof s === "object" && s.commands.includes("SUBSCRIBE"));
        const batches = (until: Sent) =>
          sent.slice(0, sent.indexOf(until)).filter((s) =>
            typeof s === "object" && s.conn !== (subscriber as { conn: number } | undefined)?.conn
          ) as { commands: string[] }[];
        return { beforeModel: batches("model"), beforeAck: batches("ack") };
      };
      const names = (batches: { commands: string[] }[]) => JSON.stringify(batches.map((b) => b.commands));
      // A new session: stored along with the input, in the same batch.
      const first = await turn("k1", "one");
      assert.equal(first.beforeModel.length, 1, `batches before the model: ${names(first.beforeModel)}`);
      // Then the run's first events in a batch of their own (a write in it would hold them for its fsync),
      // then the claim's outcome with the turn's writes: the answer waits for nothing else.
      assert.equal(first.beforeAck.length, 3, `batches before the ack: ${names(first.beforeAck)}`);
      const second = await turn("k2", "two");
      assert.equal(second.beforeModel.length, 1, `batches before the model: ${names(second.beforeModel)}`);
      assert.equal(second.beforeAck.length, 3, `batches before the ack: ${names(second.beforeAck)}`);
      const [batch] = second.beforeModel;
      assert.ok(batch.commands.includes("HGET") && batch.commands.includes("LRANGE"), "with the reads");
      // The claim, the lease attempt, the guarded append and the run record, guarded by the claim too.
      assert.equal(batch.commands.filter((c) => c === "EVALSHA").length, 4);
      sender.socket.close();
    } finally {
      await gateway.stop();
      await stores.close();
      await proxy.close();
      await server.stop();
    }
  });

  Deno.test("chat.send started ahead of its claim: a duplicate on another replica, at once or later, starts nothing and gets the first answer", async () => {
    const server = await startRedisServer();
    const log: Sent[] = [];
    const bundles = await Promise.all([0, 1].map(() => redisStores({ url: server.url, keyPrefix: "dup:" })));
    const gateways = await Promise.all(
      bundles.map((stores) =>
        startGateway({ config, stores, modules: [agentsModule({ providers: { rec: loggedModel(log) } })] })
      ),
    );
    try {
      const [a, b] = await Promise.all(gateways.map((g) => client(g)));
      const send = (c: typeof a, key: string, message: string) =>
        c.request("chat.send", { sessionKey: "main", message, idempotencyKey: key });
      const answers = await Promise.all([send(a, "same", "once"), send(b, "same", "once")]);
      for (const answer of answers) assert.deepEqual(answer.payload, { runId: "same", status: "started" });
      const ended = await gateways[0].call("agent.wait", { runId: "same", timeoutMs: 5_000 });
      assert.equal((ended as { status: string }).status, "ok");
      // Later, on the other replica: the first answer, nothing run.
      const later = await send(b, "same", "once");
      assert.deepEqual(later.payload, { runId: "same", status: "started" });
      const conflict = await send(b, "same", "something else");
      assert.equal(conflict.ok, false);
      assert.equal((conflict.error as { code?: string }).code, "INVALID_REQUEST");
      // The duplicate gave its lease back at once: a new turn on its replica runs now, not after the TTL.
      const next = await send(b, "next", "after");
      assert.equal(next.ok, true);
      await (b.socket.skipped.find(isFinal("next")) ?? b.socket.waitFor(isFinal("next"), 3_000));
      assert.equal(log.filter((s) => s === "model").length, 2, "the model ran for 'once' and 'after' only");
      const entry = (await bundles[1].sessions.get("agent:main:main"))!;
      const lines = await bundles[1].transcripts.read({ agentId: "main", sessionId: entry.sessionId });
      assert.deepEqual(lines.map((l) => [l.role, l.content]), [
        ["user", "once"],
        ["assistant", "ok"],
        ["user", "after"],
        ["assistant", "ok"],
      ]);
      const run = await bundles[1].runs.get("same");
      assert.equal(run?.state, "ok", "the duplicate wrote no run record over the first's");
      const frames = [...a.socket.skipped, ...b.socket.skipped];
      const errors = frames.filter((f) =>
        f.event === "chat" && (f.payload as { state: string }).state === "error"
      );
      assert.deepEqual(errors, [], "a duplicate ends without a word");
      for (const c of [a, b]) c.socket.close();
    } finally {
      for (const gateway of gateways) await gateway.stop();
      for (const stores of bundles) await stores.close();
      await server.stop();
    }
  });

  Deno.test("agent started ahead of its claim: concurrent duplicates on two replicas run once, and both get the first call's ack and final", async () => {
    const server = await startRedisServer();
    const log: Sent[] = [];
    const bundles = await Promise.all(
      [0, 1].map(() => redisStores({ url: server.url, keyPrefix: "dup-agent:" })),
    );
    const gateways = await Promise.all(
      bundles.map((stores) =>
        startGateway({ config, stores, modules: [agentsModule({ providers: { rec: loggedModel(log) } })] })
      ),
    );
    try {
      const sockets = await Promise.all(gateways.map((g) => client(g)));
      // Both stages of one request: the ack (`accepted`), then the final.
      const stages = async ({ socket }: (typeof sockets)[number], id: string) => {
        socket.send({ type: "req", id, method: "agent", params: { message: "once", idempotencyKey: "ag" } });
        const ack = await socket.waitFor((f) => f.type === "res" && f.id === id);
        const final = await socket.waitFor((f) => f.type === "res" && f.id === id);
        return [ack.payload, final.payload];
      };
      const [[ackA, finalA], [ackB, finalB]] = await Promise.all([
        stages(sockets[0], "a"),
        stages(sockets[1], "b"),
      ]);
      assert.equal((ackA as { status: string }).status, "accepted");
      assert.deepEqual(ackB, ackA, "the duplicate's ack is the first call's (same acceptedAt)");
      assert.equal((finalA as { status: string }).status, "ok");
      assert.deepEqual(finalB, finalA);
      assert.equal(log.filter((s) => s === "model").length, 1);
      for (const { socket } of sockets) socket.close();
    } finally {
      for (const gateway of gateways) await gateway.stop();
      for (const stores of bundles) await stores.close();
      await server.stop();
    }
  });
}
