// Review findings on claim-ahead turns (chat.send and agent start before their idempotency claim is
// answered): a claim is its own owner, so a stale pending claim of this replica lets no later call's
// guarded append through; a turn that fails before writing anything is not reported as recorded (its
// call answers a retryable UNAVAILABLE and a retry runs); and an `agent` call whose waiting turn another
// replica ran is answered with that run's reply.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import type { GatewayError } from "../lib/errors.ts";
import { memoryStores } from "../lib/state/stores.ts";
import { redisUnavailable } from "../lib/state/redis/unavailable.ts";
import type { AgentStores } from "../lib/agents/runtime.ts";
import type { ModelProvider } from "../lib/providers/types.ts";
import { redisStores } from "../stores/redis.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";
import { MAIN_KEY, recordingProvider, scriptedReplica, userTurn } from "./_scripted_runtime.ts";
import { startGateway } from "./_helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  name: "a lost claim's guarded append is refused even when a stale claim of this replica is pending",
  ignore: !REDIS_SERVER,
  async fn() {
    const { createClient } = await import("redis");
    const server = await startRedisServer();
    const stores = await redisStores({ url: server.url, keyPrefix: "ca1:" });
    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      // What an earlier call of this replica leaves when its ABANDON is lost in a blip: its pending claim.
      let owner = "";
      await stores.idempotency.run("rpc", "K0", "fp", async (claim) => {
        owner = claim.guard!.owner;
        await claim.won;
      }, { ahead: true });
      const record = "ca1:idempotency:rpc:K";
      await raw.set(record, JSON.stringify({ fingerprint: "fp", owner }), { PX: 15_000 });

      // The client's retry on the same replica runs ahead; its claim is lost to the stale one.
      const token = await stores.leases.acquire("session:X", "h/1", 10_000);
      assert.ok(token);
      let landed: unknown = "not tried";
      let won: boolean | undefined;
      const retry = stores.idempotency.run("rpc", "K", "fp", async (claim) => {
        const lines = [{ id: "l1", ts: 0, role: "user" as const, content: "retry" }];
        landed = await stores.transcripts.appendIfHeld!({ agentId: "main", sessionId: "s1" }, lines, {
          lease: "session:X",
          owner: "h/1",
          claim: claim.guard,
        });
        won = await claim.won;
        return "ran";
      }, { ahead: true });
      retry.catch(() => {});
      await sleep(200);
      assert.equal(won, false, "the retry's claim is lost (the stale claim is pending)");
      assert.equal(landed, undefined, "so its input does not land");
      assert.deepEqual(await stores.transcripts.read({ agentId: "main", sessionId: "s1" }), []);
    } finally {
      await raw.close();
      await stores.close();
      await server.stop();
    }
  },
});

Deno.test({
  name: "each claim of one store renews, finishes and abandons under its own owner",
  ignore: !REDIS_SERVER,
  async fn() {
    const { createClient } = await import("redis");
    const server = await startRedisServer();
    const stores = await redisStores({ url: server.url, keyPrefix: "ca2:" });
    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      const owners: string[] = [];
      const pending = Promise.withResolvers<void>();
      const first = stores.idempotency.run("rpc", "A", "fp", async (claim) => {
        owners.push(claim.guard!.owner);
        await pending.promise;
        return "a";
      }, { ahead: true });
      await sleep(50);
      await stores.idempotency.run("rpc", "B", "fp", (claim) => {
        owners.push(claim.guard!.owner);
        return Promise.reject(new Error("failed"));
      }, { ahead: true }).catch(() => {});
      assert.notEqual(owners[0], owners[1]);
      assert.equal(await raw.get("ca2:idempotency:rpc:B"), null, "the failed claim is abandoned");
      assert.equal(JSON.parse((await raw.get("ca2:idempotency:rpc:A"))!).owner, owners[0], "the other stays");
      pending.resolve();
      assert.equal(await first, "a");
      assert.equal(JSON.parse((await raw.get("ca2:idempotency:rpc:A"))!).outcome, "a", "and finishes");
    } finally {
      await raw.close();
      await stores.close();
      await server.stop();
    }
  },
});

Deno.test("a turn whose lease attempt fails (store blip) is not reported as recorded", async () => {
  const stores = memoryStores();
  stores.leases.acquire = () => Promise.reject(new Error("redis blip"));
  const model = recordingProvider();
  const a = scriptedReplica(stores, model.provider, "a");
  try {
    const turn = a.startTurn({ ...userTurn("never saved"), runId: "K" });
    await assert.rejects(turn.recorded, /redis blip/);
    assert.equal((await turn.done).status, "error");
  } finally {
    a.close();
  }
});

Deno.test("a turn aborted before it wrote anything still counts as recorded (nothing to retry)", async () => {
  const stores = memoryStores();
  // The lease attempt is still out when the caller gives up.
  const attempt = Promise.withResolvers<string | null>();
  stores.leases.acquire = () => attempt.promise;
  const model = recordingProvider();
  const a = scriptedReplica(stores, model.provider, "a");
  try {
    const controller = new AbortController();
    const turn = a.startTurn({ ...userTurn("given up"), runId: "K", signal: controller.signal });
    controller.abort();
    attempt.resolve(null);
    assert.equal((await turn.done).status, "aborted");
    await turn.recorded;
    assert.equal(model.requests.length, 0);
  } finally {
    a.close();
  }
});

Deno.test("chat.send and agent whose lease attempt meets Redis down answer UNAVAILABLE, and a retry runs", async () => {
  const stores = memoryStores();
  const acquire = stores.leases.acquire.bind(stores.leases);
  let down = true;
  stores.leases.acquire = (...args) =>
    down ? Promise.reject(redisUnavailable(new Error("connection refused"))) : acquire(...args);
  const model = recordingProvider();
  const gateway = await startGateway({
    config: { gateway: { auth: { token: "t".repeat(24) } }, agents: { defaults: { model: "rec/m" } } },
    stores,
    modules: [agentsModule({ providers: { rec: model.provider } })],
  });
  try {
    const unavailable = (error: GatewayError) =>
      error.code === "UNAVAILABLE" && error.retryable === true && /Redis/.test(error.message);
    const send = () =>
      gateway.call("chat.send", { sessionKey: "main", message: "kept", idempotencyKey: "k1" });
    const ask = () => gateway.call("agent", { sessionKey: "main", message: "asked", idempotencyKey: "k2" });
    await assert.rejects(send(), unavailable);
    await assert.rejects(ask(), unavailable);
    down = false;
    assert.deepEqual(await send(), { runId: "k1", status: "started" });
    await gateway.call("agent.wait", { runId: "k1", timeoutMs: 5_000 });
    const answer = await ask() as { status: string };
    assert.equal(answer.status, "ok");
    const history = await gateway.call("chat.history", { sessionKey: "main" }) as {
      messages: { content: unknown }[];
    };
    assert.equal(history.messages.length, 4, "both messages and their replies are saved");
    assert.equal(model.requests.length, 2);
  } finally {
    await gateway.stop();
  }
});

/**
 * A model "rec/m" that answers "ok" with token counts, its first turn only once `releaseFirst()` is called
 * (or fails it once the turn is aborted).
 */
function countingModel() {
  const first = Promise.withResolvers<void>();
  let calls = 0;
  const provider: ModelProvider = {
    id: "rec",
    api: "test",
    async *streamChat(_request, signal) {
      if (++calls === 1) {
        const aborted = new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        await Promise.race([first.promise, aborted]);
        signal.throwIfAborted();
      }
      yield { type: "text", text: "ok" };
      yield {
        type: "finish",
        finishReason: "stop",
        usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 },
      };
    },
    completeChat: () => Promise.reject(new Error("not used")),
    embed: () => Promise.reject(new Error("not used")),
    listModels: () => Promise.resolve([]),
  };
  return { provider, releaseFirst: () => first.resolve(), calls: () => calls };
}

/** `b`'s waiting turn is taken over by `a` (which took `b` for dead); `b`'s caller hears how it ended. */
async function takenOverReply(stores: { a: AgentStores; b: AgentStores }): Promise<void> {
  const model = countingModel();
  const a = scriptedReplica(stores.a, model.provider, "a");
  const b = scriptedReplica(stores.b, model.provider, "b");
  try {
    const held = a.startTurn({ ...userTurn("first"), runId: "r1" });
    await held.recorded;
    const second = b.startTurn({ ...userTurn("second"), runId: "r2" });
    await second.recorded;
    await a.resumeOrphans(new Set(["a"])); // b missed a heartbeat
    model.releaseFirst();
    const onA = a.runs.active(MAIN_KEY).find((r) => r.runId === "r2");
    assert.ok(onA, "a runs b's waiting turn");
    const ranOnA = await onA.done;
    const endedOnB = await second.done;
    assert.equal(model.calls(), 2, "the turn ran once");
    assert.equal(endedOnB.status, "ok");
    assert.equal(endedOnB.sessionId, ranOnA.sessionId);
    assert.notEqual(endedOnB.sessionId, "");
    assert.equal(endedOnB.model, "rec/m");
    assert.equal(endedOnB.result?.text, "ok", "the agent caller on b gets the reply (its final's payloads)");
    assert.deepEqual(endedOnB.result?.usage, { inputTokens: 3, outputTokens: 1, totalTokens: 4 });
  } finally {
    a.close();
    b.close();
  }
}

Deno.test("an agent call whose waiting turn another replica took over gets that run's reply (memory)", async () => {
  const stores = memoryStores();
  await takenOverReply({ a: stores, b: stores });
});

Deno.test({
  name: "an agent call whose waiting turn another replica took over gets that run's reply (redis)",
  ignore: !REDIS_SERVER,
  async fn() {
    const server = await startRedisServer();
    const [a, b] = await Promise.all([1, 2].map(() => redisStores({ url: server.url, keyPrefix: "ca3:" })));
    try {
      await takenOverReply({ a, b });
    } finally {
      await Promise.all([a.close(), b.close()]);
      await server.stop();
    }
  },
});

Deno.test("an agent call whose waiting turn another replica ran answers, and replays, that run's reply", async () => {
  const stores = memoryStores();
  const model = countingModel();
  const a = scriptedReplica(stores, model.provider, "a");
  const gateway = await startGateway({
    config: { gateway: { auth: { token: "t".repeat(24) } }, agents: { defaults: { model: "rec/m" } } },
    stores,
    modules: [agentsModule({ providers: { rec: model.provider } })],
  });
  try {
    await a.startTurn({ ...userTurn("first"), runId: "r1" }).recorded;
    const params = { sessionKey: "main", message: "second", idempotencyKey: "k2" };
    const asked = gateway.call("agent", params);
    while ((await stores.turnQueue.list(MAIN_KEY)).length === 0) await sleep(5);
    await a.resumeOrphans(new Set(["a"])); // the gateway's replica missed a heartbeat
    model.releaseFirst();
    const final = await asked as {
      status: string;
      result: { payloads: { text: string }[]; meta: { agentMeta: Record<string, unknown> } };
    };
    assert.equal(model.calls(), 2, "the turn ran once, on a");
    assert.equal(final.status, "ok");
    assert.deepEqual(final.result.payloads, [{ text: "ok" }]);
    const session = await stores.sessions.get(MAIN_KEY);
    assert.equal(final.result.meta.agentMeta.sessionId, session?.sessionId);
    assert.equal(final.result.meta.agentMeta.model, "m");
    assert.deepEqual(final.result.meta.agentMeta.usage, { input: 3, output: 1, total: 4 });
    assert.deepEqual(await gateway.call("agent", params), final, "a retry replays the same final");
  } finally {
    a.close();
    await gateway.stop();
  }
});

Deno.test("a lost run-ahead turn that ends late leaves the same replica's new run of its id registered", async () => {
  const stores = memoryStores();
  const model = countingModel();
  const a = scriptedReplica(stores, model.provider, "a");
  try {
    // The call's first claim is lost (another replica held the key) while its turn ran ahead; the claim
    // then vanishes, and the call, taking the key over, starts the turn again under the same run id.
    const lost = Promise.withResolvers<boolean>();
    const ahead = a.startTurn({ ...userTurn("hello"), runId: "K", claim: { won: lost.promise } });
    const again = a.startTurn({ ...userTurn("hello"), runId: "K" });
    lost.resolve(false);
    await ahead.done;
    while (model.calls() === 0) await sleep(5);
    const live = a.runs.active(MAIN_KEY);
    assert.equal(live.length, 1, "the new run is still live here");
    assert.equal(live[0].done, again.done);
    assert.deepEqual(await a.abort(MAIN_KEY, "K"), ["K"]);
    assert.equal((await again.done).status, "aborted", "and chat.abort reaches it");
  } finally {
    model.releaseFirst();
    a.close();
  }
});
