// A turn that waits for its session is acknowledged only once its input is in the turn queue (a failed
// queue write is refused, and the message never runs), and a waiting turn runs once: never while its
// replica is alive, and once when another replica took it for dead and ran it in its place.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { GatewayError } from "../lib/errors.ts";
import { type GatewayStores, memoryStores } from "../lib/state/stores.ts";
import { onMemoryAndRedis, redisTest } from "./_redis_server.ts";
import { MemoryTurnQueue, type QueuedTurn } from "../lib/state/turn-queue.ts";
import { MAIN_KEY, recordingProvider, scriptedReplica, userTurn } from "./_scripted_runtime.ts";
import { startGateway } from "./_helpers.ts";

/** A memory queue whose writes wait for `release()` (or fail with `fail`). */
class HeldQueue extends MemoryTurnQueue {
  readonly writes: QueuedTurn[] = [];
  readonly #gate = Promise.withResolvers<void>();
  constructor(private readonly fail?: Error) {
    super();
  }
  release(): void {
    this.#gate.resolve();
  }
  override async enqueue(turn: QueuedTurn): Promise<void> {
    this.writes.push(turn);
    await this.#gate.promise;
    if (this.fail) throw this.fail;
    await super.enqueue(turn);
  }
}

/** A model whose first turn waits for `releaseFirst()`; later turns answer at once. */
function firstTurnHeld() {
  const first = Promise.withResolvers<void>();
  let calls = 0;
  const recording = recordingProvider(() => ++calls === 1 ? first.promise : Promise.resolve());
  return { ...recording, releaseFirst: () => first.resolve() };
}

/** A gateway whose agent runs on `provider` and whose turn queue is `turnQueue`. */
function gatewayWith(turnQueue: MemoryTurnQueue, provider: ReturnType<typeof firstTurnHeld>["provider"]) {
  return startGateway({
    config: { gateway: { auth: { token: "t".repeat(24) } }, agents: { defaults: { model: "rec/m" } } },
    stores: { ...memoryStores(), turnQueue },
    modules: [agentsModule({ providers: { rec: provider } })],
  });
}

const settledWithin = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise.then(() => true, () => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);

Deno.test("a chat.send that waits for its session is answered only after its input is in the turn queue", async () => {
  const queue = new HeldQueue();
  const model = firstTurnHeld();
  const gateway = await gatewayWith(queue, model.provider);
  try {
    const send = (message: string, idempotencyKey: string) =>
      gateway.call("chat.send", { sessionKey: "main", message, idempotencyKey }) as Promise<
        { runId: string }
      >;
    await send("first", "k1");
    const second = send("second", "k2");
    assert.equal(await settledWithin(second, 150), false, "no answer while the queue write is held");
    assert.deepEqual(queue.writes.map((t) => [t.runId, t.messages[0].content]), [["k2", "second"]]);
    queue.release();
    assert.equal((await second).runId, "k2");
    assert.deepEqual((await queue.list(MAIN_KEY)).map((t) => t.runId), ["k2"], "queued while the first runs");

    model.releaseFirst();
    const waited = await gateway.call("agent.wait", { runId: "k2", timeoutMs: 5_000 }) as { status: string };
    assert.equal(waited.status, "ok");
    const history = await gateway.call("chat.history", { sessionKey: "main" }) as { messages: unknown[] };
    assert.equal(history.messages.length, 4);
    assert.deepEqual(await queue.sessions(), [], "taken out of the queue as it was written");
  } finally {
    await gateway.stop();
  }
});

Deno.test("a chat.send waiting for the lease another replica holds is answered only after its queue write", async () => {
  const queue = new HeldQueue();
  const model = firstTurnHeld();
  const stores = { ...memoryStores(), turnQueue: queue };
  const gateway = await startGateway({
    config: { gateway: { auth: { token: "t".repeat(24) } }, agents: { defaults: { model: "rec/m" } } },
    stores,
    modules: [agentsModule({ providers: { rec: model.provider } })],
  });
  try {
    const lease = await stores.leases.acquire(`session:${MAIN_KEY}`, "other-replica", 60_000);
    assert.ok(lease);
    const sent = gateway.call("chat.send", { sessionKey: "main", message: "queued", idempotencyKey: "k1" });
    assert.equal(await settledWithin(sent, 150), false, "no answer while the queue write is held");
    assert.deepEqual(queue.writes.map((t) => t.runId), ["k1"]);
    queue.release();
    assert.deepEqual(await sent, { runId: "k1", status: "started" });
    await stores.leases.release(`session:${MAIN_KEY}`, lease);
    model.releaseFirst();
    assert.equal(
      (await gateway.call("agent.wait", { runId: "k1", timeoutMs: 5_000 }) as { status: string }).status,
      "ok",
    );
    assert.deepEqual(await queue.sessions(), []);
  } finally {
    await gateway.stop();
  }
});

Deno.test("a waiting chat.send whose queue write fails is refused as UNAVAILABLE and never runs", async () => {
  const queue = new HeldQueue(new GatewayError("UNAVAILABLE", "redis is away", { retryable: true }));
  queue.release();
  const model = firstTurnHeld();
  const gateway = await gatewayWith(queue, model.provider);
  try {
    await gateway.call("chat.send", { sessionKey: "main", message: "first", idempotencyKey: "k1" });
    await assert.rejects(
      gateway.call("chat.send", { sessionKey: "main", message: "lost", idempotencyKey: "k2" }),
      (error: GatewayError) => error.code === "UNAVAILABLE" && error.retryable === true,
    );
    model.releaseFirst();
    await gateway.call("agent.wait", { runId: "k1", timeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(model.requests.length, 1, "the refused message reached no model");
    const history = await gateway.call("chat.history", { sessionKey: "main" }) as { messages: unknown[] };
    assert.equal(history.messages.length, 2);
  } finally {
    await gateway.stop();
  }
});

/**
 * The "runs once" scenario on two replicas' stores (`a`'s and `b`'s: one bundle twice in process, or two
 * bundles over one Redis, where the move into the transcript is one script).
 */
async function runsOnce(stores: { a: GatewayStores; b: GatewayStores }): Promise<void> {
  const model = firstTurnHeld();
  const a = scriptedReplica(stores.a, model.provider, "a");
  const b = scriptedReplica(stores.b, model.provider, "b");
  const queue = stores.a.turnQueue;
  try {
    const first = a.startTurn({ ...userTurn("first"), runId: "r1" });
    await first.recorded;
    // B's turn waits for the lease A holds: its input is queued under B's name.
    const second = b.startTurn({ ...userTurn("second"), runId: "r2" });
    await second.recorded;
    assert.deepEqual((await queue.list(MAIN_KEY)).map((t) => [t.runId, t.owner]), [["r2", "b"]]);

    await a.resumeOrphans(new Set(["a", "b"]));
    assert.deepEqual(
      a.runs.active(MAIN_KEY).map((r) => r.runId),
      ["r1"],
      "B is alive: its turn is left to it",
    );

    // Taken for dead (its peer record lapsed), B's turn is resumed by A, behind A's own turn.
    await a.resumeOrphans(new Set(["a"]));
    assert.deepEqual(a.runs.active(MAIN_KEY).map((r) => r.runId).sort(), ["r1", "r2"]);
    const resumed = a.runs.active(MAIN_KEY).find((r) => r.runId === "r2")!;
    await a.resumeOrphans(new Set(["a"]));
    assert.equal(a.runs.active(MAIN_KEY).length, 2, "resumed once");

    model.releaseFirst();
    assert.equal((await first.done).status, "ok");
    // B, alive after all, finds its input gone and ends as A's run of it ends.
    assert.equal((await resumed.done).status, "ok");
    const endedOnB = await second.done;
    assert.equal(endedOnB.status, "ok");
    assert.equal(endedOnB.runId, "r2");
    assert.equal(model.requests.length, 2, "one model call per turn");
    const session = (await stores.a.sessions.get(MAIN_KEY))!;
    const lines = await stores.a.transcripts.read({ agentId: "main", sessionId: session.sessionId });
    assert.deepEqual(lines.map((l) => [l.role, l.content]), [
      ["user", "first"],
      ["assistant", "ok"],
      ["user", "second"],
      ["assistant", "ok"],
    ]);
    assert.deepEqual(await queue.sessions(), []);
  } finally {
    a.close();
    b.close();
  }
}

onMemoryAndRedis(
  {
    memory: "a waiting turn runs once: not resumed while its replica lives, and once when taken for dead",
    redis: "on Redis too, a waiting turn runs once, whichever replica moves it into the transcript first",
  },
  "runs-once:",
  (a, b) => runsOnce({ a, b }),
);

redisTest(
  "on Redis, duplicates of a waiting chat.send (same replica or another) queue nothing and withdraw nothing",
  async (redis) => {
    const model = firstTurnHeld();
    const bundles = await Promise.all([1, 2].map(() => redis.stores({ keyPrefix: "dup-wait:" })));
    const gateways = await Promise.all(bundles.map((stores) =>
      startGateway({
        config: { gateway: { auth: { token: "t".repeat(24) } }, agents: { defaults: { model: "rec/m" } } },
        stores,
        modules: [agentsModule({ providers: { rec: model.provider } })],
      })
    ));
    const [a, b] = gateways;
    const enqueued: string[] = [];
    for (const { turnQueue } of bundles) {
      const enqueue = turnQueue.enqueue.bind(turnQueue);
      turnQueue.enqueue = (turn) => (enqueued.push(turn.runId), enqueue(turn));
    }
    const send = (gateway: typeof a, message: string, idempotencyKey: string) =>
      gateway.call("chat.send", { sessionKey: "main", message, idempotencyKey });
    try {
      await send(a, "hold", "k1");
      assert.deepEqual(await send(a, "waits", "w"), { runId: "w", status: "started" });
      // The duplicates start ahead of their claims and find the session busy: here, and on the other replica.
      for (const gateway of [a, b, a]) {
        assert.deepEqual(await send(gateway, "waits", "w"), { runId: "w", status: "started" });
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(enqueued, ["w"], "only the first call queued its input");
      assert.deepEqual(
        (await bundles[1].turnQueue.list(MAIN_KEY)).map((t) => t.runId),
        ["w"],
        "one queued item",
      );
      model.releaseFirst();
      assert.equal(
        (await b.call("agent.wait", { runId: "w", timeoutMs: 5_000 }) as { status: string }).status,
        "ok",
      );
      const history = await b.call("chat.history", { sessionKey: "main" }) as {
        messages: { content: unknown }[];
      };
      assert.equal(history.messages.length, 4, "hold, its reply, waits, its reply");
      assert.equal(model.requests.length, 2, "the model ran for hold and waits only");
      assert.deepEqual(await bundles[0].turnQueue.sessions(), []);
    } finally {
      for (const gateway of gateways) await gateway.stop();
    }
  },
);
