// A key pushed out of its idempotency namespace (the cap: a claim past it deletes the oldest records and, on
// Redis, their entries in the namespace's order) while the run it names is still recorded. A retry of that
// call claims the key as new, yet the run it stands for went on: it must be answered from that run, not run
// the turn (and ask the model) a second time. On Redis the turn's first run record, sent in the claim's
// round trip, finds that run and marks the claim lapsed; in process the call looks at the run first.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { MemoryIdempotencyStore } from "../lib/state/idempotency.ts";
import { RedisConnection } from "../lib/state/redis/connection.ts";
import { RedisIdempotencyStore } from "../lib/state/redis/idempotency.ts";
import { RedisRunStore } from "../lib/state/redis/runs.ts";
import type { StoredRun } from "../lib/state/runs.ts";
import { SAVED_INPUT_WINDOW } from "../lib/state/sessions.ts";
import { type GatewayStores, memoryStores } from "../lib/state/stores.ts";
import { redisStores } from "../stores/redis.ts";
import { client, historyText, lastAnswer, scriptedGateway } from "./_helpers.ts";
import { IGNORE_WITHOUT_REDIS, startRedisServer } from "./_redis_server.ts";

type Json = Record<string, unknown>;

/** Each namespace keeps this many records: two more keyed calls push a key out. */
const CAP = 2;
/** Calls after the first two: they push both keys out, and both inputs out of the saved-input window. */
const LATER = SAVED_INPUT_WINDOW / 2 + 1;

/**
 * Runs an `agent` and a `chat.send` call on a gateway over `stores` (its idempotency store capped at
 * {@link CAP}), pushes both keys out with more calls (`evicted` checks they are gone; the session moves on
 * past the window in which an append skips a run's saved input), sends one key again with another request
 * (refused), then retries both: each is answered as the first was, and the transcript and the run records
 * stay as they were.
 */
async function retryAfterEviction(stores: GatewayStores, evicted: () => Promise<void>): Promise<void> {
  const gateway = await scriptedGateway(stores);
  const operator = await client(gateway);
  const send = async (method: string, params: Json) => {
    const res = await lastAnswer(operator.socket, method, params);
    assert.equal(res.ok, true, JSON.stringify(res));
    return res.payload as Json;
  };
  const agent = (idempotencyKey: string, message: string) =>
    send("agent", { sessionKey: "main", message, idempotencyKey });
  const chat = (idempotencyKey: string, message: string) =>
    send("chat.send", { sessionKey: "main", message, idempotencyKey });
  const history = async () =>
    ((await operator.request("chat.history", { sessionKey: "main" })).payload as { messages: [] }).messages
      .map(historyText);
  const records = () => Promise.all(["k-agent", "k-chat"].map((id) => stores.runs.get(id)));
  try {
    const first = await agent("k-agent", "the agent message");
    assert.equal(first.status, "ok", JSON.stringify(first));
    assert.deepEqual(await chat("k-chat", "the chat message"), { runId: "k-chat", status: "started" });
    const waited = await operator.request("agent.wait", { runId: "k-chat", timeoutMs: 10_000 });
    assert.equal((waited.payload as Json).status, "ok", JSON.stringify(waited));
    for (let i = 0; i < LATER; i++) assert.equal((await agent(`k-later-${i}`, `later ${i}`)).status, "ok");
    await evicted();
    const before = await history();
    const runs = await records();
    assert.ok(runs.every((run: StoredRun | undefined) => run?.end?.status === "ok"), JSON.stringify(runs));

    // Sent with another request (another session), the key is refused as the store refuses a key reused
    // for a different request: never answered with the run of the call that used it first.
    const params = { sessionKey: "elsewhere", message: "another request", idempotencyKey: "k-agent" };
    const reused = await lastAnswer(operator.socket, "agent", params);
    assert.equal(reused.ok, false, JSON.stringify(reused));
    const error = reused.error as { code: string; details: { reason: string } };
    assert.deepEqual([error.code, error.details.reason], ["INVALID_REQUEST", "idempotency-key-conflict"]);
    assert.ok(!JSON.stringify(reused).includes("the agent message"), "nothing of the first call's run");

    assert.deepEqual(await agent("k-agent", "the agent message"), first, "answered from the run that ended");
    assert.deepEqual(await chat("k-chat", "the chat message"), { runId: "k-chat", status: "started" });
    // A second run would append the message again and ask the model again: give it time to show.
    await new Promise((r) => setTimeout(r, 300));
    const after = await history();
    assert.deepEqual(after, before, "no second copy of either message, no second reply");
    const replies = after.filter((line) => line.startsWith("Local model reply"));
    assert.equal(replies.length, 2 + LATER, "the model asked once per call");
    assert.deepEqual(await records(), runs, "no second run record");
  } finally {
    operator.socket.close();
    await gateway.stop();
  }
}

Deno.test("in process: a retry of a call whose key the idempotency cap pushed out is answered from its run", async () => {
  const idempotency = new MemoryIdempotencyStore(() => Date.now(), undefined, CAP);
  // The store holds its cap: its oldest keys went (the cap contract pins which go).
  await retryAfterEviction({ ...memoryStores(), idempotency }, () => {
    assert.equal(idempotency.size, CAP);
    return Promise.resolve();
  });
});

Deno.test({
  name:
    "redis: a retry of a call whose key the idempotency cap pushed out of its order is answered from its run",
  ignore: IGNORE_WITHOUT_REDIS,
  async fn() {
    const server = await startRedisServer();
    const stores = await redisStores({ url: server.url, keyPrefix: "evict:" });
    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      // The bundle's idempotency store, with a small cap, on a connection of its own.
      stores.idempotency = new RedisIdempotencyStore(new RedisConnection(raw, "evict:"), { maxEntries: CAP });
      await retryAfterEviction(stores, async () => {
        for (const key of ["k-agent", "k-chat"]) {
          assert.equal(await raw.exists(`evict:idempotency:rpc:${key}`), 0, `${key}'s record`);
          assert.equal(await raw.zScore("evict:idempotency-order:rpc", `evict:idempotency:rpc:${key}`), null);
        }
      });
    } finally {
      await raw.close();
      await stores.close();
      await server.stop();
    }
  },
});

Deno.test({
  name:
    "redis: a claimed first run record that finds a run under its id writes nothing and marks the claim lapsed until confirmed",
  ignore: IGNORE_WITHOUT_REDIS,
  async fn() {
    const server = await startRedisServer();
    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      const connection = new RedisConnection(raw, "mark:");
      await connection.load([...RedisIdempotencyStore.scripts, ...RedisRunStore.scripts]);
      const idempotency = new RedisIdempotencyStore(connection, { maxEntries: CAP });
      const runs = new RedisRunStore(connection);
      const run = (acceptedAt: number): StoredRun => ({
        runId: "k",
        sessionKey: "agent:main:main",
        agentId: "main",
        acceptedAt,
        state: "running",
      });
      const first = await idempotency.run("rpc", "k", "fp", async (claim) => {
        assert.equal(await claim.lapsed, false);
        return await runs.putIfClaimed(run(1), 60_000, claim.guard!);
      }, { ahead: true });
      assert.equal(first, true, "a key's first claim writes its run's record");
      for (let i = 0; i < CAP; i++) {
        await idempotency.run("rpc", `later-${i}`, "fp", () => Promise.resolve(i));
      }
      assert.equal(
        await raw.zScore("mark:idempotency-order:rpc", "mark:idempotency:rpc:k"),
        null,
        "pushed out",
      );

      const seen = await idempotency.run("rpc", "k", "fp", async (claim) => {
        const lapsed = await claim.lapsed;
        const put = await runs.putIfClaimed(run(2), 60_000, claim.guard!);
        // Marked as a claim that follows a lapsed one: the guards refuse it until its call confirms it.
        const marked = JSON.parse((await raw.get("mark:idempotency:rpc:k"))!).lapsed;
        const kept = (await runs.get("k"))?.acceptedAt;
        return { lapsed, put, marked, kept, confirmed: await claim.confirm!() };
      }, { ahead: true });
      assert.deepEqual(seen, { lapsed: false, put: false, marked: true, kept: 1, confirmed: true });
    } finally {
      await raw.close();
      await server.stop();
    }
  },
});
