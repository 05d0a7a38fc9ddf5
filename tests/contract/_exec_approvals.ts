// The ExecApprovalStore contract: every implementation (in-process, Redis) runs these.
import assert from "node:assert/strict";
import {
  type ExecApprovalRecord,
  type ExecApprovalStore,
  RESOLVED_APPROVAL_RETAIN_MS,
} from "../../lib/state/exec-approvals.ts";
import { type TestClock, testClock } from "./_clock.ts";

const record = (
  id: string,
  createdAtMs: number,
  extra: Partial<ExecApprovalRecord> = {},
): ExecApprovalRecord => ({
  id,
  request: {
    command: `run ${id}`,
    commandArgv: [],
    agentId: "main",
    allowedDecisions: ["allow-once", "deny"],
  },
  createdAtMs,
  expiresAtMs: createdAtMs + 60_000,
  ...extra,
});

/**
 * Registers the ExecApprovalStore contract tests for `name`; `make` returns an empty store on `clock` (the
 * clock a network store judges expiry by).
 */
export function execApprovalsContract(
  name: string,
  make: (clock: TestClock) => Promise<ExecApprovalStore>,
): void {
  const test = (what: string, fn: (store: ExecApprovalStore, clock: TestClock) => Promise<void>) =>
    Deno.test(`${name} exec approvals: ${what}`, async () => {
      const clock = testClock();
      await fn(await make(clock), clock);
    });

  test("a created request is pending, listed, and found by id as it was stored", async (store, clock) => {
    const t = clock.now();
    assert.equal(await store.create(record("a", t), t), true);
    assert.equal(await store.create(record("b", t + 1), t), true);
    assert.equal(await store.create(record("a", t + 2), t), false, "a live id is not reused");
    assert.deepEqual(await store.get("a", t), record("a", t));
    assert.deepEqual((await store.listPending(t)).map((r) => r.id), ["a", "b"]);
    assert.equal(await store.get("zz", t), undefined);
  });

  test(
    "the first answer wins; a second one is a repeat carrying the first decision",
    async (store, clock) => {
      const t = clock.now();
      await store.create(record("a", t), t);
      clock.advance(5);
      const first = await store.resolve("a", "allow-once", "ops", t + 5);
      assert.equal(first.outcome, "resolved");
      assert.deepEqual(first.outcome === "resolved" && first.record, {
        ...record("a", t),
        decision: "allow-once",
        resolvedBy: "ops",
        resolvedAtMs: t + 5,
      });
      const second = await store.resolve("a", "deny", null, t + 6);
      assert.equal(second.outcome, "repeat");
      assert.equal(second.outcome === "repeat" && second.record.decision, "allow-once");
      assert.deepEqual(await store.listPending(t + 6), []);
      assert.equal((await store.get("a", t + 6))?.decision, "allow-once");
      assert.equal(await store.expire("a"), false, "an answered request is not expired");
      assert.deepEqual((await store.resolve("nope", "deny", null, t)).outcome, "missing");
    },
  );

  test("parallel answers: exactly one resolves", async (store, clock) => {
    const t = clock.now();
    await store.create(record("a", t), t);
    const outcomes = await Promise.all(
      ["allow-once", "deny", "allow-always", "deny"].map((d) => store.resolve("a", d as "deny", null, t)),
    );
    assert.equal(outcomes.filter((o) => o.outcome === "resolved").length, 1);
  });

  test("an unanswered request expires; an answered one is kept a while", async (store, clock) => {
    const t = clock.now();
    await store.create(record("a", t), t);
    await store.create(record("b", t), t);
    clock.advance(10);
    await store.resolve("b", "deny", null, t + 10);
    const late = t + 60_000;
    clock.advance(late - clock.now());
    assert.equal(await store.get("a", late), undefined);
    assert.equal((await store.resolve("a", "deny", null, late)).outcome, "missing");
    assert.equal((await store.get("b", late))?.decision, "deny");
    const gone = t + 10 + RESOLVED_APPROVAL_RETAIN_MS + 60_000;
    clock.advance(gone - clock.now());
    assert.equal(await store.get("b", gone), undefined);
    assert.equal(await store.create(record("b", gone), gone), true, "an id is free again once forgotten");
  });

  test("expire drops a pending request once", async (store, clock) => {
    const t = clock.now();
    await store.create(record("a", t), t);
    assert.equal(await store.expire("a"), true);
    assert.equal(await store.expire("a"), false);
    assert.equal(await store.get("a", t), undefined);
    assert.equal((await store.resolve("a", "deny", null, t)).outcome, "missing");
  });

  test("allow-always trusts a command per agent", async (store) => {
    assert.equal(await store.allowed("main", "ls -la"), false);
    await store.allow("main", "ls -la");
    assert.equal(await store.allowed("main", "ls -la"), true);
    assert.equal(await store.allowed("other", "ls -la"), false);
    assert.equal(await store.allowed("main", "ls"), false);
  });
}
