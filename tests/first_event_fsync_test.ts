// Redis with `appendfsync always` writes and fsyncs what one event-loop iteration wrote before it sends any
// reply or pub/sub message of that iteration: a PUBLISH read along with a write reaches subscribers only
// after that write's fsync. A turn's first batch (claim, lease attempt, reads, guarded input append) pays
// one fsync, which is unavoidable; its first events must then travel in a batch with no write in it, so a
// client on another replica sees the turn one fsync after the send, not two. The run record goes in the
// first batch, guarded by the claim like the input, so a duplicate (its claim lost) still writes none.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import type { ModelProvider } from "../lib/providers/types.ts";
import type { StoredRun } from "../lib/state/runs.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { redisStores } from "../stores/redis.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";
import { firstKey, relay, type SentChunk } from "./_redis_relay.ts";
import { recordingProvider } from "./_scripted_runtime.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";

/** A model that answers at once, as the bench's local one does: its events and the turn's end writes are due in the same tick. */
const instantModel = recordingProvider().provider;

const config = {
  gateway: { auth: { mode: "token" as const, token: TOKEN } },
  agents: { defaults: { model: "rec/m" } },
};

const chatOf = (runId: string, state?: string) => (f: Frame) =>
  f.event === "chat" && (f.payload as { runId: string }).runId === runId &&
  (state === undefined || (f.payload as { state: string }).state === state);

/** The commands of a chunk with the key each one names, as `NAME key`. */
const described = (chunk: SentChunk) =>
  chunk.commands.map((command, i) => `${command} ${firstKey(command, chunk.args[i]) ?? ""}`.trim());

if (REDIS_SERVER) {
  Deno.test("a turn's first events reach Redis in a batch with no write, right after its first batch, which holds the run record", async () => {
    const server = await startRedisServer(undefined, { appendfsync: "always" });
    const log: SentChunk[] = [];
    const proxy = relay(server.url, log);
    const bundles = await Promise.all([0, 1].map(() => redisStores({ url: proxy.url, keyPrefix: "fe:" })));
    const gateways = await Promise.all(
      bundles.map((stores) =>
        startGateway({ config, stores, modules: [agentsModule({ providers: { rec: instantModel } })] })
      ),
    );
    try {
      const [sender, watcher] = await Promise.all(gateways.map((g) => client(g)));
      // A new session (its entry stored with the input), then one that exists (its transcript read too).
      for (const key of ["new-session", "known-session"]) {
        const from = log.length;
        const seen = watcher.socket.waitFor(chatOf(key), 5_000);
        const answer = await sender.request("chat.send", {
          sessionKey: "main",
          message: key,
          idempotencyKey: key,
        });
        assert.deepEqual(answer.payload, { runId: key, status: "started" });
        await seen;
        await (sender.socket.skipped.find(chatOf(key, "final")) ??
          sender.socket.waitFor(chatOf(key, "final")));
        // The run's end is recorded after its final.
        await new Promise((r) => setTimeout(r, 50));
        const sent = log.slice(from);
        const first = sent.findIndex((c) => described(c).includes(`EVALSHA fe:idempotency:rpc:${key}`));
        assert.ok(first >= 0, "the call's claim was sent");
        const batch = described(sent[first]);
        const runRecord = `EVALSHA fe:run:${key}`;
        assert.ok(
          batch.indexOf(runRecord) > batch.indexOf(`EVALSHA fe:idempotency:rpc:${key}`),
          `the run record goes in the first batch, after the claim: ${JSON.stringify(batch)}`,
        );
        // On the sending connection, every batch up to the one that carries the first event is events only.
        const conn = sent[first].conn;
        const after = sent.slice(first + 1).filter((c) => c.conn === conn);
        const events = after.findIndex((c) => c.commands.includes("PUBLISH"));
        assert.ok(events >= 0, "the turn published its events");
        for (const chunk of after.slice(0, events + 1)) {
          assert.deepEqual(
            chunk.commands.filter((c) => c !== "PUBLISH"),
            [],
            `no write before or with the first events: ${JSON.stringify(after.map(described))}`,
          );
        }
        // Written directly as running, then once more as ended: no queued → running double write.
        const records = sent.flatMap(described).filter((c) => c === runRecord);
        assert.equal(records.length, 2, `run record writes: ${records.length}`);
        assert.equal((await bundles[1].runs.get(key))?.state, "ok");
      }
      for (const c of [sender, watcher]) c.socket.close();
    } finally {
      for (const gateway of gateways) await gateway.stop();
      for (const stores of bundles) await stores.close();
      await proxy.close();
      await server.stop();
    }
  });

  Deno.test("a turn that waited behind another of its session publishes its first events in a batch with no write", async () => {
    const server = await startRedisServer(undefined, { appendfsync: "always" });
    const log: SentChunk[] = [];
    const proxy = relay(server.url, log);
    const stores = await redisStores({ url: proxy.url, keyPrefix: "fw:" });
    // The first turn's model answers once the second turn is queued behind it.
    const release = Promise.withResolvers<void>();
    let calls = 0;
    const gatedModel: ModelProvider = {
      ...instantModel,
      async *streamChat(request, signal) {
        if (calls++ === 0) await release.promise;
        yield* instantModel.streamChat(request, signal);
      },
    };
    const gateway = await startGateway({
      config,
      stores,
      modules: [agentsModule({ providers: { rec: gatedModel } })],
    });
    try {
      const sender = await client(gateway);
      const send = (key: string) =>
        sender.request("chat.send", { sessionKey: "main", message: key, idempotencyKey: key });
      assert.deepEqual((await send("first")).payload, { runId: "first", status: "started" });
      const queued = await send("queued");
      assert.deepEqual(queued.payload, { runId: "queued", status: "started" });
      release.resolve();
      await (sender.socket.skipped.find(chatOf("queued", "final")) ??
        sender.socket.waitFor(chatOf("queued", "final")));
      await new Promise((r) => setTimeout(r, 50));
      const runOf = (message: string) =>
        (JSON.parse(message) as { event: { payload?: { runId?: string } } }).event;
      const events = log.find((chunk) =>
        chunk.commands.some((c, i) => c === "PUBLISH" && runOf(chunk.args[i][1]).payload?.runId === "queued")
      );
      assert.ok(events, "the waiting turn published its events");
      assert.deepEqual(
        events.commands.filter((c) => c !== "PUBLISH"),
        [],
        `no write with its first events (its run record's 'running' waits for them): ${
          JSON.stringify(described(events))
        }`,
      );
      assert.equal((await stores.runs.get("queued"))?.state, "ok");
      sender.socket.close();
    } finally {
      await gateway.stop();
      await stores.close();
      await proxy.close();
      await server.stop();
    }
  });

  Deno.test("a run record put under an idempotency claim lands only while the claim is its call's", async () => {
    const server = await startRedisServer();
    const stores = await redisStores({ url: server.url, keyPrefix: "guarded-run:" });
    try {
      const record = (runId: string): StoredRun => ({
        runId,
        sessionKey: "agent:main:main",
        agentId: "main",
        acceptedAt: 1,
        state: "running",
      });
      const works: Promise<[string, boolean]>[] = [];
      const put = (runId: string) =>
        stores.idempotency.run("rpc", "same-key", "fp", (claim) => {
          assert.ok(claim.guard, "a Redis claim is pending when the call starts ahead of it");
          const work = (async (): Promise<[string, boolean]> => {
            await stores.runs.putIfClaimed!(record(runId), 60_000, claim.guard!);
            return [runId, await claim.won];
          })();
          works.push(work);
          return work.then(() => runId);
        }, { ahead: true });
      assert.equal(await put("first"), "first");
      // A retry runs ahead of its claim too; its claim is lost (the key is taken), so its record is refused.
      assert.equal(await put("duplicate"), "first");
      assert.deepEqual(await Promise.all(works), [["first", true], ["duplicate", false]]);
      assert.deepEqual(await stores.runs.get("first"), record("first"));
      assert.equal(await stores.runs.get("duplicate"), undefined);
      assert.deepEqual(await stores.runs.active("agent:main:main"), [record("first")]);
    } finally {
      await stores.close();
      await server.stop();
    }
  });
}
