// The contract every RunStore meets; the factory gets the clock its TTLs must run on.
import assert from "node:assert/strict";
import { RunLedger } from "../../lib/agents/run-ledger.ts";
import { InProcessEventBus } from "../../lib/bus/event-bus.ts";
import { createLogger, MemoryLogSink } from "../../lib/log/logger.ts";
import type { RunStore, StoredRun } from "../../lib/state/runs.ts";
import { type TestClock, testClock } from "./_clock.ts";

function stored(runId: string, acceptedAt: number, extra: Partial<StoredRun> = {}): StoredRun {
  return { runId, sessionKey: "agent:main:main", agentId: "main", acceptedAt, state: "queued", ...extra };
}

const TTL = 60_000;

/** Registers the RunStore contract tests for the implementation `name`. */
export function runsContract(name: string, make: (now: () => number) => RunStore | Promise<RunStore>): void {
  const test = (title: string, body: (store: RunStore, clock: TestClock) => Promise<void>) =>
    Deno.test(`RunStore contract (${name}): ${title}`, async () => {
      const clock = testClock();
      await body(await make(clock.now), clock);
    });

  test("an unknown run is undefined; a session without runs has none active", async (store) => {
    assert.equal(await store.get("nope"), undefined);
    assert.deepEqual(await store.active("agent:main:main"), []);
  });

  test("put records a run by id and later puts replace it", async (store) => {
    await store.put(stored("r1", 1), TTL);
    assert.deepEqual(await store.get("r1"), stored("r1", 1));
    await store.put(stored("r1", 1, { state: "running" }), TTL);
    assert.deepEqual(await store.get("r1"), stored("r1", 1, { state: "running" }));
  });

  test("an ended run is final: a late put changes nothing", async (store) => {
    const end = { status: "aborted" as const, startedAt: 2, endedAt: 3, error: { code: "X", message: "m" } };
    await store.put(stored("r1", 1, { state: "aborted", end }), TTL);
    await store.put(stored("r1", 1, { state: "running" }), TTL);
    assert.deepEqual(await store.get("r1"), stored("r1", 1, { state: "aborted", end }));
  });

  test("an end whose input was never saved gives way to the call's retry, not to a late write", async (store) => {
    const end = { status: "error" as const, startedAt: 2, endedAt: 3, unsaved: true as const };
    await store.put(stored("r1", 1, { state: "error", end }), TTL);
    assert.deepEqual((await store.active("agent:main:main")).map((r) => r.runId), []);
    // The retry, accepted later under the same run id.
    await store.put(stored("r1", 5, { state: "running" }), TTL);
    assert.deepEqual(await store.get("r1"), stored("r1", 5, { state: "running" }));
    assert.deepEqual((await store.active("agent:main:main")).map((r) => r.runId), ["r1"]);
    // The failed attempt's end arriving after the retry started changes nothing.
    await store.put(stored("r1", 1, { state: "error", end }), TTL);
    assert.deepEqual(await store.get("r1"), stored("r1", 5, { state: "running" }));
    const ok = { status: "ok" as const, startedAt: 6, endedAt: 7 };
    await store.put(stored("r1", 5, { state: "ok", end: ok }), TTL);
    assert.deepEqual(await store.get("r1"), stored("r1", 5, { state: "ok", end: ok }));
  });

  test("an unsaved end gives way to a retry accepted on a replica whose clock is behind", async (store) => {
    const end = { status: "error" as const, startedAt: 10, endedAt: 11, unsaved: true as const };
    await store.put(stored("r2", 10, { state: "running" }), TTL);
    await store.put(stored("r2", 10, { state: "error", end }), TTL);
    assert.deepEqual(await store.get("r2"), stored("r2", 10, { state: "error", end }));
    // Attempts are told apart by equality, not order: a retry stamped earlier still replaces the end.
    await store.put(stored("r2", 8, { state: "running" }), TTL);
    assert.deepEqual(await store.get("r2"), stored("r2", 8, { state: "running" }));
    await store.put(stored("r2", 10, { state: "error", end }), TTL);
    assert.deepEqual(await store.get("r2"), stored("r2", 8, { state: "running" }));
  });

  test("active lists a session's unfinished runs, queued first, each in order of acceptance", async (store) => {
    await store.put(stored("running-late", 5, { state: "running" }), TTL);
    await store.put(stored("queued-late", 4), TTL);
    await store.put(stored("running-early", 1, { state: "running" }), TTL);
    await store.put(stored("queued-early", 2), TTL);
    await store.put(
      stored("ended", 0, { state: "ok", end: { status: "ok", startedAt: 0, endedAt: 1 } }),
      TTL,
    );
    await store.put(stored("elsewhere", 0, { sessionKey: "agent:main:other" }), TTL);
    const ids = (await store.active("agent:main:main")).map((r) => r.runId);
    assert.deepEqual(ids, ["queued-early", "queued-late", "running-early", "running-late"]);
    assert.deepEqual((await store.active("agent:main:other")).map((r) => r.runId), ["elsewhere"]);
  });

  test("put says whether it wrote: an ended run's later put does not", async (store) => {
    assert.equal(await store.put(stored("r1", 1, { state: "running" }), TTL), true);
    const end = { status: "ok" as const, startedAt: 1, endedAt: 2 };
    assert.equal(await store.put(stored("r1", 1, { state: "ok", end }), TTL), true);
    const late = { status: "error" as const, startedAt: 1, endedAt: 3 };
    assert.equal(await store.put(stored("r1", 1, { state: "error", end: late }), TTL), false);
  });

  test(
    "running lists every session's running runs in order of acceptance, until they end",
    async (store, clock) => {
      await store.put(stored("late", 5, { state: "running", replicaId: "a" }), TTL);
      await store.put(stored("early", 1, { state: "running", sessionKey: "agent:main:other" }), TTL);
      await store.put(stored("queued", 0), TTL);
      await store.put(stored("brief", 3, { state: "running" }), 1_000);
      assert.deepEqual((await store.running()).map((r) => r.runId), ["early", "brief", "late"]);
      assert.deepEqual(
        (await store.running()).at(-1),
        stored("late", 5, { state: "running", replicaId: "a" }),
      );
      await store.put(stored("queued", 0, { state: "running" }), TTL);
      const end = { status: "ok" as const, startedAt: 1, endedAt: 2 };
      await store.put(stored("early", 1, { state: "ok", end, sessionKey: "agent:main:other" }), TTL);
      clock.advance(1_000);
      assert.deepEqual((await store.running()).map((r) => r.runId), ["queued", "late"]);
    },
  );

  test("endIfOwned ends a run not ended whose record names the replica, once", async (store) => {
    const running = stored("r1", 1, { state: "running", replicaId: "dead" });
    const end = {
      status: "error" as const,
      startedAt: 1,
      endedAt: 2,
      error: { code: "UNAVAILABLE", message: "m" },
    };
    const ended = { ...running, state: "error" as const, end };
    assert.equal(await store.endIfOwned(ended, TTL), false, "no record");
    await store.put(running, TTL);
    assert.equal(await store.endIfOwned({ ...ended, replicaId: "other" }, TTL), false, "another replica's");
    assert.equal(await store.get("r1").then((r) => r?.state), "running");
    // Two replicas ending it at once: one does.
    const results = await Promise.all([store.endIfOwned(ended, TTL), store.endIfOwned(ended, TTL)]);
    assert.deepEqual(results.sort(), [false, true]);
    assert.deepEqual(await store.get("r1"), ended);
    assert.deepEqual(await store.running(), []);
    // A retry of its call took the run over on another replica: left to it.
    await store.put(stored("r2", 1, { state: "running", replicaId: "dead" }), TTL);
    await store.put(stored("r2", 7, { state: "running", replicaId: "alive" }), TTL);
    assert.equal(await store.endIfOwned({ ...ended, runId: "r2" }, TTL), false);
    assert.equal((await store.get("r2"))?.replicaId, "alive");
    // A run without a replica named is no one's to end.
    await store.put(stored("r3", 1, { state: "running" }), TTL);
    assert.equal(await store.endIfOwned({ ...ended, runId: "r3", replicaId: undefined }, TTL), false);
  });

  test("a record expires after its TTL, counted from its last put", async (store, clock) => {
    await store.put(stored("r1", 1), 1_000);
    clock.advance(900);
    await store.put(stored("r1", 1, { state: "running" }), 1_000);
    clock.advance(900);
    assert.equal((await store.get("r1"))?.state, "running");
    assert.equal((await store.active("agent:main:main")).length, 1);
    clock.advance(100);
    assert.equal(await store.get("r1"), undefined);
    assert.deepEqual(await store.active("agent:main:main"), []);
  });

  test("returned records are copies", async (store) => {
    await store.put(stored("r1", 1), TTL);
    (await store.get("r1"))!.state = "ok";
    (await store.active("agent:main:main"))[0].state = "error";
    assert.equal((await store.get("r1"))?.state, "queued");
  });

  test("a put under a claim that is not its owner's writes nothing", async (store) => {
    // A claim record that does not exist, as one answered for another call (or expired) reads.
    const foreign = { record: "no-such-claim", owner: "this-call" };
    if (store.putIfClaimed) {
      await store.putIfClaimed(stored("r1", 1), TTL, foreign);
      assert.equal(await store.get("r1"), undefined, "a fresh record");
      await store.put(stored("r2", 1), TTL);
      await store.putIfClaimed(stored("r2", 1, { state: "running" }), TTL, foreign);
      assert.equal((await store.get("r2"))?.state, "queued", "a record of another call");
    }
    // A store that cannot check the guard is never handed the record before the claim is won.
    const ledger = new RunLedger(
      { runs: store, bus: new InProcessEventBus(() => {}) },
      createLogger({ sinks: [new MemoryLogSink()] }),
    );
    const tracked = ledger.track(stored("r3", 1, { state: "running" }), TTL, {
      guard: foreign,
      claimed: Promise.resolve(false),
    });
    tracked.ended({
      runId: "r3",
      sessionKey: "agent:main:main",
      sessionId: "",
      agentId: "main",
      status: "error",
      startedAt: 1,
      endedAt: 2,
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(await store.get("r3"), undefined, "a duplicate's record");
  });
}
