// The TurnQueue contract: every implementation (in-process, Redis) runs these; the atomic move into the
// transcript (`moveIfHeld`) runs for the stores that offer it.
import assert from "node:assert/strict";
import type { NewTranscriptEntry, TranscriptRef } from "../../lib/state/sessions.ts";
import type { GatewayStores } from "../../lib/state/stores.ts";
import type { QueuedTurn, TurnQueue } from "../../lib/state/turn-queue.ts";
import { type TestClock, testClock } from "./_clock.ts";

const S = "agent:main:main";

function turn(runId: string, sessionKey = S, owner = "replica-a"): QueuedTurn {
  return {
    runId,
    sessionKey,
    agentId: "main",
    messages: [{ role: "user", content: `message ${runId}` }],
    system: "be brief",
    model: "local/scripted-1",
    origin: { kind: "chat", connId: "conn-1" },
    acceptedAt: 1_700_000_000_000,
    owner,
  };
}

/** Registers the TurnQueue contract for `name`; `make` returns an empty queue. */
export function turnQueueContract(name: string, make: () => Promise<TurnQueue>): void {
  const test = (what: string, fn: (queue: TurnQueue) => Promise<void>) =>
    Deno.test(`${name} turn queue: ${what}`, async () => await fn(await make()));

  test("an empty queue lists no session and no turn", async (queue) => {
    assert.deepEqual(await queue.sessions(), []);
    assert.deepEqual(await queue.list(S), []);
    assert.equal(await queue.take(S, "r1"), undefined);
  });

  test("turns are listed oldest first, whole, under their session", async (queue) => {
    await queue.enqueue(turn("r1"));
    await queue.enqueue(turn("r2"));
    await queue.enqueue(turn("o1", "agent:ops:main", "replica-b"));
    assert.deepEqual(await queue.list(S), [turn("r1"), turn("r2")]);
    assert.deepEqual(await queue.list("agent:ops:main"), [turn("o1", "agent:ops:main", "replica-b")]);
    assert.deepEqual((await queue.sessions()).sort(), ["agent:main:main", "agent:ops:main"]);
  });

  test("take removes one turn by run id, wherever it is; an empty session leaves the list", async (queue) => {
    await queue.enqueue(turn("r1"));
    await queue.enqueue(turn("r2"));
    assert.deepEqual(await queue.take(S, "r2"), turn("r2"));
    assert.deepEqual(await queue.list(S), [turn("r1")]);
    assert.equal(await queue.take(S, "r2"), undefined, "taken once");
    assert.equal(await queue.take("agent:ops:main", "r1"), undefined, "another session's queue");
    assert.deepEqual(await queue.take(S, "r1"), turn("r1"));
    assert.deepEqual(await queue.sessions(), []);
    assert.deepEqual(await queue.list(S), []);
  });

  test("parallel takes of one turn hand it to one taker", async (queue) => {
    await queue.enqueue(turn("r1"));
    const takes = await Promise.all(Array.from({ length: 5 }, () => queue.take(S, "r1")));
    assert.equal(takes.filter(Boolean).length, 1);
  });

  test("enqueue under a queued run id adopts that turn: one turn, in its place, the second's owner", async (queue) => {
    await queue.enqueue(turn("r1"));
    await queue.enqueue(turn("r2"));
    await queue.enqueue(turn("r1", S, "replica-b"));
    assert.deepEqual(await queue.list(S), [turn("r1", S, "replica-b"), turn("r2")]);
    assert.deepEqual(await queue.take(S, "r1"), turn("r1", S, "replica-b"));
    assert.equal(await queue.take(S, "r1"), undefined, "no second copy");
  });

  test("a take out of a long queue leaves the others whole and in order", async (queue) => {
    const ids = Array.from({ length: 200 }, (_, i) => `r${i}`);
    for (const id of ids) await queue.enqueue(turn(id));
    assert.deepEqual(await queue.take(S, "r150"), turn("r150"));
    assert.deepEqual(await queue.take(S, "r0"), turn("r0"));
    assert.deepEqual(
      await queue.list(S),
      ids.filter((id) => id !== "r150" && id !== "r0").map((id) => turn(id)),
    );
  });

  test("take with an owner takes only that owner's turn", async (queue) => {
    await queue.enqueue(turn("r1"));
    await queue.enqueue(turn("r1", S, "replica-b"));
    assert.equal(await queue.take(S, "r1", "replica-a"), undefined, "adopted by replica-b");
    assert.deepEqual(await queue.take(S, "r1", "replica-b"), turn("r1", S, "replica-b"));
    assert.deepEqual(await queue.sessions(), []);
  });

  test("a turn's delivery target comes back whole from list and take; an adopting turn's replaces it", async (queue) => {
    const delivery = { channel: "telegram", to: "7", replyToId: "102" };
    const channelTurn = { ...turn("r1"), origin: { kind: "agent" as const, external: true }, delivery };
    await queue.enqueue(channelTurn);
    assert.deepEqual(await queue.list(S), [channelTurn]);
    const retried = { ...channelTurn, owner: "replica-b", delivery: { channel: "webhook", to: "conv-9" } };
    await queue.enqueue(retried);
    assert.deepEqual(await queue.take(S, "r1"), retried);
    await queue.enqueue(turn("r2"));
    assert.equal((await queue.take(S, "r2"))?.delivery, undefined, "a socket's turn has none");
  });

  test("what a caller changes after enqueue or list is not stored", async (queue) => {
    const mine = turn("r1");
    await queue.enqueue(mine);
    mine.messages[0].content = "changed";
    const [listed] = await queue.list(S);
    assert.equal(listed.messages[0].content, "message r1");
    listed.messages[0].content = "changed too";
    assert.equal((await queue.list(S))[0].messages[0].content, "message r1");
  });
}

/** The stores a move reads and writes besides the queue: one bundle's. */
export type MoveStores = Pick<GatewayStores, "turnQueue" | "transcripts" | "sessions" | "leases">;

const ref: TranscriptRef = { agentId: "main", sessionId: "s1" };
const guard = { sessionKey: S, lease: `session:${S}`, owner: "me/1" };
const lines = (runId: string): NewTranscriptEntry[] => [{
  id: `line-${runId}`,
  ts: 1,
  runId,
  role: "user",
  content: `message ${runId}`,
}];
const entry = (sessionId: string) => ({
  key: S,
  agentId: "main",
  sessionId,
  createdAt: 1,
  updatedAt: 1,
  inputTokens: 0,
  outputTokens: 0,
});

/**
 * Registers the contract of {@link TurnQueue.moveIfHeld} for `name`: `make` gives a fresh bundle on
 * `clock` whose turn queue offers the move.
 */
export function turnQueueMoveContract(name: string, make: (clock: TestClock) => Promise<MoveStores>): void {
  const test = (title: string, body: (stores: MoveStores, clock: TestClock) => Promise<void>) =>
    Deno.test(`TurnQueue.moveIfHeld contract (${name}): ${title}`, async () => {
      const clock = testClock();
      const stores = await make(clock);
      assert.ok(stores.turnQueue.moveIfHeld, "the queue offers moveIfHeld");
      await body(stores, clock);
    });

  test("takes the turn out and appends its lines in one step, numbered after the transcript's", async (stores) => {
    const { turnQueue, transcripts, sessions, leases } = stores;
    await sessions.put(entry(ref.sessionId));
    await transcripts.append(ref, [{ id: "old", ts: 0, role: "user", content: "old" }]);
    await turnQueue.enqueue(turn("r1"));
    await turnQueue.enqueue(turn("r2"));
    assert.ok(await leases.acquire(guard.lease, guard.owner, 1_000));
    const moved = await turnQueue.moveIfHeld!({ sessionKey: S, runId: "r1" }, ref, lines("r1"), guard);
    assert.deepEqual(moved, [{ ...lines("r1")[0], seq: 2 }]);
    assert.deepEqual((await transcripts.read(ref)).map((e) => [e.seq, e.id]), [[1, "old"], [2, "line-r1"]]);
    assert.deepEqual((await turnQueue.list(S)).map((t) => t.runId), ["r2"]);
  });

  test("a turn no longer queued is `gone` and nothing is written", async (stores) => {
    const { turnQueue, transcripts, sessions, leases } = stores;
    await sessions.put(entry(ref.sessionId));
    await leases.acquire(guard.lease, guard.owner, 1_000);
    await turnQueue.enqueue(turn("r1"));
    await turnQueue.take(S, "r1");
    assert.equal(
      await turnQueue.moveIfHeld!({ sessionKey: S, runId: "r1" }, ref, lines("r1"), guard),
      "gone",
    );
    assert.deepEqual(await transcripts.read(ref), []);
    assert.deepEqual(await turnQueue.sessions(), []);
  });

  test(
    "changes nothing unless the owner holds the lease, unexpired, and the entry names the transcript",
    async (stores, clock) => {
      const { turnQueue, transcripts, sessions, leases } = stores;
      const move = () => turnQueue.moveIfHeld!({ sessionKey: S, runId: "r1" }, ref, lines("r1"), guard);
      await turnQueue.enqueue(turn("r1"));
      await sessions.put(entry(ref.sessionId));
      assert.equal(await move(), undefined, "free");
      const theirs = await leases.acquire(guard.lease, "them", 1_000);
      assert.equal(await move(), undefined, "another owner's");
      await leases.release(guard.lease, theirs!);
      await leases.acquire(guard.lease, guard.owner, 1_000);
      clock.advance(1_001);
      assert.equal(await move(), undefined, "expired");
      await leases.acquire(guard.lease, guard.owner, 1_000);
      await sessions.put(entry("after-reset"));
      assert.equal(await move(), undefined, "another transcript");
      assert.deepEqual(await transcripts.read(ref), []);
      assert.deepEqual((await turnQueue.list(S)).map((t) => t.runId), ["r1"], "still queued");
    },
  );

  test("a turn another replica owns is `gone` to a mover naming its old owner, and stays queued", async (stores) => {
    const { turnQueue, transcripts, sessions, leases } = stores;
    await sessions.put(entry(ref.sessionId));
    await leases.acquire(guard.lease, guard.owner, 1_000);
    await turnQueue.enqueue(turn("r1"));
    await turnQueue.enqueue(turn("r1", S, "replica-b"));
    const move = (owner: string) =>
      turnQueue.moveIfHeld!({ sessionKey: S, runId: "r1", owner }, ref, lines("r1"), guard);
    assert.equal(await move("replica-a"), "gone");
    assert.deepEqual(await transcripts.read(ref), []);
    assert.deepEqual((await turnQueue.list(S)).map((t) => [t.runId, t.owner]), [["r1", "replica-b"]]);
    assert.deepEqual(await move("replica-b"), [{ ...lines("r1")[0], seq: 1 }]);
    assert.deepEqual(await turnQueue.sessions(), []);
  });

  test("a session with no entry refuses the move, unless the guard brings one to create", async (stores) => {
    const { turnQueue, transcripts, sessions, leases } = stores;
    await leases.acquire(guard.lease, guard.owner, 1_000);
    await turnQueue.enqueue(turn("r1"));
    const move = (create?: ReturnType<typeof entry>) =>
      turnQueue.moveIfHeld!({ sessionKey: S, runId: "r1" }, ref, lines("r1"), { ...guard, create });
    assert.equal(await move(), undefined);
    assert.equal(await sessions.get(S), undefined);
    assert.deepEqual(await move(entry(ref.sessionId)), [{ ...lines("r1")[0], seq: 1 }]);
    assert.deepEqual(await sessions.get(S), entry(ref.sessionId));
    await turnQueue.enqueue(turn("r2"));
    await sessions.put(entry("after-reset"));
    const other = await turnQueue.moveIfHeld!({ sessionKey: S, runId: "r2" }, ref, lines("r2"), {
      ...guard,
      create: entry(ref.sessionId),
    });
    assert.equal(other, undefined, "an existing entry naming another transcript still refuses");
    assert.equal((await sessions.get(S))?.sessionId, "after-reset");
    assert.equal((await transcripts.read(ref)).length, 1);
  });

  test("a turn whose run's input is saved already (its call retried) is taken out; the saved lines come back", async (stores) => {
    const { turnQueue, transcripts, sessions, leases } = stores;
    await sessions.put(entry(ref.sessionId));
    await leases.acquire(guard.lease, guard.owner, 1_000);
    const [saved] = await transcripts.append(ref, lines("r1"), { inputOf: "r1" });
    await turnQueue.enqueue(turn("r1"));
    const retry = [{ ...lines("r1")[0], id: "retry" }];
    const moved = await turnQueue.moveIfHeld!({ sessionKey: S, runId: "r1" }, ref, retry, {
      ...guard,
      inputOf: "r1",
    });
    assert.deepEqual(moved, [saved]);
    assert.deepEqual((await transcripts.read(ref)).map((e) => e.id), ["line-r1"]);
    assert.deepEqual(await turnQueue.sessions(), []);
  });

  test("two movers of one turn: one moves it, the other finds it gone; the lines are written once", async (stores) => {
    const { turnQueue, transcripts, sessions, leases } = stores;
    await sessions.put(entry(ref.sessionId));
    await leases.acquire(guard.lease, guard.owner, 1_000);
    await turnQueue.enqueue(turn("r1"));
    const results = await Promise.all(
      [1, 2].map(() => turnQueue.moveIfHeld!({ sessionKey: S, runId: "r1" }, ref, lines("r1"), guard)),
    );
    assert.deepEqual(results.map((r) => r === "gone" ? "gone" : "moved").sort(), ["gone", "moved"]);
    assert.equal((await transcripts.read(ref)).length, 1);
  });
}
