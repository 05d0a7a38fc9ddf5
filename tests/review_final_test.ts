/**
 * Review of the merges since 16e4ca1 (h/auth-proof, h/chanfix-a, h/chanfix-b, h/rtfix): each test shows a
 * defect listed in FINDINGS.md and fails on the main it was written against.
 */
import assert from "node:assert/strict";
import { RunLedger } from "../lib/agents/run-ledger.ts";
import { createLogger, MemoryLogSink } from "../lib/log/logger.ts";
import { memoryStores } from "../lib/state/stores.ts";
import type { StoredRun } from "../lib/state/runs.ts";

const logger = createLogger({ sinks: [new MemoryLogSink()] });

function attempt(acceptedAt: number): StoredRun {
  return { runId: "key-1", sessionKey: "agent:main:main", agentId: "main", acceptedAt, state: "running" };
}

Deno.test("finding 1: a failed attempt's late unsaved end does not answer agent.wait for the retry that replaced it", async () => {
  const stores = memoryStores();
  const ledger = new RunLedger(stores, logger);
  // The retry (same run id = idempotency key, accepted later) runs; the store holds its record.
  await stores.runs.put(attempt(2_000), 60_000);
  const waiting = ledger.end("key-1", 300);
  // The first attempt, whose input was never saved, winds down late: its end is "of an earlier attempt".
  await ledger.publishEnd(attempt(1_000), {
    runId: "key-1",
    sessionKey: "agent:main:main",
    sessionId: "",
    agentId: "main",
    status: "error",
    startedAt: 1_000,
    endedAt: 1_500,
    error: { code: "UNAVAILABLE", message: "internal error; see the gateway log" },
  }, true);
  // The store kept the retry's record as the contract says ...
  assert.deepEqual((await stores.runs.get("key-1"))?.end, undefined);
  // ... but the bus told every waiter the run ended with the failed attempt's error.
  assert.deepEqual(await waiting, undefined, "agent.wait for the running retry must not hear the unsaved end");
});

Deno.test("finding 1b: an unsaved end in the store does not answer agent.wait (the retry is on its way)", async () => {
  const stores = memoryStores();
  const ledger = new RunLedger(stores, logger);
  await stores.runs.put({
    ...attempt(1_000),
    state: "error",
    end: { status: "error", startedAt: 1_000, endedAt: 1_500, unsaved: true },
  }, 60_000);
  assert.deepEqual(await ledger.end("key-1", 200), undefined);
});

Deno.test("finding 2: a retry accepted on a replica whose clock is a little behind still replaces the unsaved end", async () => {
  const stores = memoryStores();
  await stores.runs.put({
    ...attempt(10_000),
    state: "error",
    end: { status: "error", startedAt: 10_000, endedAt: 10_005, unsaved: true },
  }, 60_000);
  // The retry lands on another replica whose clock runs 50 ms behind the first's: its acceptedAt is lower.
  await stores.runs.put(attempt(9_990), 60_000);
  const stored = await stores.runs.get("key-1");
  assert.equal(stored?.end, undefined, "the retry's running record must replace the unsaved end");
});
