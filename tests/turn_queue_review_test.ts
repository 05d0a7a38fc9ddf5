// The turn queue against the review of its first version: one item per run id (a retried waiting turn
// runs once), an acknowledged input kept when its move fails, chat.abort and sessions.reset reaching a
// dead replica's waiting turns, and a failed withdrawal that never lets an aborted turn run.
import assert from "node:assert/strict";
import { type GatewayStores, memoryStores } from "../lib/state/stores.ts";
import { onMemoryAndRedis, redisTest, type TestRedis } from "./_redis_server.ts";
import { MemoryTurnQueue, type QueuedTurn } from "../lib/state/turn-queue.ts";
import { MAIN_KEY, recordingProvider, scriptedReplica, userTurn } from "./_scripted_runtime.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a replica that died leaves: its waiting turn `runId` in the queue, and its session lease for `leaseMs`. */
async function deadReplicaLeft(stores: GatewayStores, runId: string, leaseMs: number): Promise<void> {
  const lease = await stores.leases.acquire(`session:${MAIN_KEY}`, "dead/1", leaseMs);
  assert.ok(lease);
  const turn: QueuedTurn = {
    runId,
    sessionKey: MAIN_KEY,
    agentId: "main",
    messages: [{ role: "user", content: "hello" }],
    origin: { kind: "agent" },
    acceptedAt: Date.now(),
    owner: "dead",
  };
  await stores.turnQueue.enqueue(turn);
}

/** The run record a replica writes when it accepts a turn that waits (what the dead replica left too). */
function acceptedRun(stores: GatewayStores, runId: string): Promise<boolean> {
  return stores.runs.put({
    runId,
    sessionKey: MAIN_KEY,
    agentId: "main",
    acceptedAt: Date.now(),
    state: "queued",
  }, 60_000);
}

/**
 * The `agent` retry of a killed replica's waiting turn: the claim (15 s) lapses before the lease (30 s),
 * so the retry wins the key, waits for the lease and queues a second item under the same run id, while
 * the sweeper (on a third replica) resumes the dead replica's item.
 */
async function retryAndSweeper(pair: { b: GatewayStores; c: GatewayStores }) {
  const model = recordingProvider();
  const b = scriptedReplica(pair.b, model.provider, "b");
  const c = scriptedReplica(pair.c, model.provider, "c");
  try {
    await deadReplicaLeft(pair.b, "K", 300);
    const retry = b.startTurn({ ...userTurn("hello"), runId: "K" });
    await retry.recorded;
    await c.resumeOrphans(new Set(["b", "c"]));
    await retry.done;
    await Promise.all(c.runs.active(MAIN_KEY).map((r) => r.done));
    assert.equal(model.requests.length, 1, "one acknowledged message, one model call");
  } finally {
    b.close();
    c.close();
  }
}

onMemoryAndRedis(
  {
    memory: "a retried waiting turn of a dead replica runs once (memory)",
    redis: "a retried waiting turn of a dead replica runs once (redis)",
  },
  "rv1:",
  (b, c) => retryAndSweeper({ b, c }),
);

Deno.test("the retry's own sweeper leaves no second item behind (runs once when it dies too)", async () => {
  const stores = memoryStores();
  const model = recordingProvider();
  const b = scriptedReplica(stores, model.provider, "b");
  const c = scriptedReplica(stores, model.provider, "c");
  try {
    await deadReplicaLeft(stores, "K", 200);
    const retry = b.startTurn({ ...userTurn("hello"), runId: "K" });
    await retry.recorded;
    await b.resumeOrphans(new Set(["b"]));
    await retry.done;
    assert.equal(model.requests.length, 1);
    const left = (await stores.turnQueue.list(MAIN_KEY)).map((t) => [t.runId, t.owner]);
    // b later dies: whatever it left is resumed by c.
    await c.resumeOrphans(new Set(["c"]));
    await sleep(200);
    assert.deepEqual(left, [], "nothing left in the queue");
    assert.equal(model.requests.length, 1, "the message ran once");
  } finally {
    b.close();
    c.close();
  }
});

Deno.test("chat.abort of a dead replica's waiting turn is not run by the sweeper", async () => {
  const stores = memoryStores();
  const model = recordingProvider();
  const c = scriptedReplica(stores, model.provider, "c");
  try {
    await deadReplicaLeft(stores, "K", 100);
    await acceptedRun(stores, "K");
    const aborted = await c.abort(MAIN_KEY, "K");
    assert.deepEqual(aborted, ["K"], "chat.abort says it aborted K");
    await c.resumeOrphans(new Set(["c"]));
    await sleep(300);
    assert.equal(model.requests.length, 0, "an aborted message never reaches the model");
  } finally {
    c.close();
  }
});

/** A memory queue whose first `take` fails (a Redis blip at withdraw time). */
class FlakyTake extends MemoryTurnQueue {
  #failed = false;
  override take(sessionKey: string, runId: string) {
    if (!this.#failed) {
      this.#failed = true;
      return Promise.reject(new Error("redis blip"));
    }
    return super.take(sessionKey, runId);
  }
}

Deno.test("a waiting turn aborted during a blip is not run later by the sweeper", async () => {
  const stores = { ...memoryStores(), turnQueue: new FlakyTake() };
  const model = recordingProvider();
  const a = scriptedReplica(stores, model.provider, "a");
  const c = scriptedReplica(stores, model.provider, "c");
  try {
    const lease = await stores.leases.acquire(`session:${MAIN_KEY}`, "other/1", 100);
    assert.ok(lease);
    const turn = a.startTurn({ ...userTurn("hello"), runId: "K" });
    await turn.recorded;
    await a.abort(MAIN_KEY, "K");
    assert.equal((await turn.done).status, "aborted");
    await sleep(20);
    const left = (await stores.turnQueue.list(MAIN_KEY)).map((t) => [t.runId, t.owner]);
    // a dies later (a deploy): c sweeps.
    await c.resumeOrphans(new Set(["c"]));
    await sleep(300);
    assert.equal(
      model.requests.length,
      0,
      `the aborted message ran later; left behind: ${JSON.stringify(left)}`,
    );
  } finally {
    a.close();
    c.close();
  }
});

/**
 * Replica "a" on `redis`, whose moves of a waiting turn's input into the transcript find its session lease
 * lapsed on the attempts `lapsed` picks (a stalled loop, a renewal that failed), and its waiting turn
 * ("acked", run id K) started behind another owner's lease.
 */
async function waitingTurnOnLapsingLease(
  redis: TestRedis,
  keyPrefix: string,
  lapsed: (attempt: number) => boolean,
) {
  using setup = new DisposableStack();
  const stores = await redis.stores({ keyPrefix });
  const model = recordingProvider();
  const a = scriptedReplica(stores, model.provider, "a");
  setup.defer(() => a.close());
  const move = stores.turnQueue.moveIfHeld!.bind(stores.turnQueue);
  let attempts = 0;
  stores.turnQueue.moveIfHeld = (turn, ref, lines, guard) =>
    move(turn, ref, lines, lapsed(attempts++) ? { ...guard, owner: "lapsed" } : guard);
  const lease = await stores.leases.acquire(`session:${MAIN_KEY}`, "other/1", 100);
  assert.ok(lease);
  const turn = a.startTurn({ ...userTurn("acked"), runId: "K" });
  const owned = setup.move();
  return { stores, model, turn, [Symbol.dispose]: () => owned.dispose() };
}

redisTest(
  "a waiting turn whose move is refused (lease lost before the move) keeps its acknowledged input",
  async (redis) => {
    // The lease lapses between the turn's lease and its first move.
    using setup = await waitingTurnOnLapsingLease(redis, "rv2:", (attempt) => attempt === 0);
    const { stores, turn } = setup;
    await turn.recorded; // chat.send answers {status: "started"} here
    const out = await turn.done;
    await sleep(100);
    const queued = await stores.turnQueue.list(MAIN_KEY);
    const session = await stores.sessions.get(MAIN_KEY);
    const lines = session ? await stores.transcripts.read(session) : [];
    assert.ok(
      queued.length === 1 || lines.some((l) => l.content === "acked"),
      `acknowledged input is neither queued nor in the transcript (turn ended ${out.status}: ${out.error?.message})`,
    );
  },
);

Deno.test("sessions.reset drops a dead replica's waiting turn too (it is not run in the fresh session)", async () => {
  const stores = memoryStores();
  const model = recordingProvider();
  const c = scriptedReplica(stores, model.provider, "c");
  try {
    await c.startTurn({ ...userTurn("before"), runId: "r0" }).done;
    await deadReplicaLeft(stores, "K", 100);
    await acceptedRun(stores, "K");
    const fresh = await c.resetSession(MAIN_KEY, "main");
    await c.resumeOrphans(new Set(["c"]));
    await sleep(300);
    const lines = await stores.transcripts.read({ agentId: "main", sessionId: fresh.sessionId });
    assert.deepEqual(lines.map((l) => l.content), [], "the reset session starts empty");
  } finally {
    c.close();
  }
});

redisTest(
  "a waiting turn that never holds its lease at the move writes no session entry and keeps its input",
  async (redis) => {
    // Every move finds the lease lapsed (a loop that stalls each time): the new session must not be stored
    // by a turn that no longer holds it, and the acknowledged input stays for the sweep.
    using setup = await waitingTurnOnLapsingLease(redis, "rv4:", () => true);
    const { stores, model, turn } = setup;
    await turn.recorded;
    assert.equal((await turn.done).status, "error", "its caller hears it failed (lease lost)");
    await sleep(50);
    assert.equal(await stores.sessions.get(MAIN_KEY), undefined, "no entry written outside the lease");
    assert.deepEqual((await stores.turnQueue.list(MAIN_KEY)).map((t) => [t.runId, t.owner]), [["K", "a"]]);
    assert.equal((await stores.runs.get("K"))?.end, undefined, "its run is left unended for the sweep");
    assert.equal(model.requests.length, 0);
  },
);

Deno.test("a dead replica's waiting turn no replica can run ends after an hour and no longer holds up its session", async () => {
  const stores = memoryStores();
  const model = recordingProvider();
  const c = scriptedReplica(stores, model.provider, "c");
  const left = (runId: string, agentId: string, acceptedAt: number): QueuedTurn => ({
    runId,
    sessionKey: MAIN_KEY,
    agentId,
    messages: [{ role: "user", content: runId }],
    origin: { kind: "agent" },
    acceptedAt,
    owner: "dead",
  });
  try {
    // An agent removed from the config since: no replica knows it.
    await stores.turnQueue.enqueue(left("recent", "removed", Date.now() - 60_000));
    await stores.turnQueue.enqueue(left("next", "main", Date.now()));
    await c.resumeOrphans(new Set(["c"]));
    assert.deepEqual(
      (await stores.turnQueue.list(MAIN_KEY)).map((t) => t.runId),
      ["recent", "next"],
      "waits a while",
    );
    await stores.turnQueue.take(MAIN_KEY, "recent");
    await stores.turnQueue.take(MAIN_KEY, "next");
    await stores.turnQueue.enqueue(left("old", "removed", Date.now() - 2 * 60 * 60_000));
    await stores.turnQueue.enqueue(left("next", "main", Date.now()));
    await c.resumeOrphans(new Set(["c"]));
    await Promise.all(c.runs.active(MAIN_KEY).map((r) => r.done));
    assert.equal((await stores.runs.get("old"))?.end?.status, "error", "its run ends, as agent.wait hears");
    assert.deepEqual(model.requests.length, 1, "the turn behind it ran");
    assert.deepEqual(await stores.turnQueue.list(MAIN_KEY), []);
  } finally {
    c.close();
  }
});
