// The IdempotencyStore contract: every implementation (in-process, Redis) runs these.
import assert from "node:assert/strict";
import {
  IDEMPOTENCY_TTL_MS,
  IdempotencyConflict,
  type IdempotencyStore,
} from "../../lib/state/idempotency.ts";
import { type TestClock, testClock } from "./_clock.ts";

/** Work that counts its runs and answers a JSON value, as stored outcomes are. */
function counted<T>(value: T, delayMs = 0) {
  let runs = 0;
  const work = async () => {
    runs++;
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    return value;
  };
  return { work, runs: () => runs };
}

/**
 * Registers the IdempotencyStore contract tests for `name`; `make` returns an empty store whose records
 * live {@link IDEMPOTENCY_TTL_MS} on `clock`.
 */
export function idempotencyContract(
  name: string,
  make: (clock: TestClock) => Promise<IdempotencyStore>,
): void {
  const test = (what: string, fn: (store: IdempotencyStore, clock: TestClock) => Promise<void>) =>
    Deno.test(`${name} idempotency: ${what}`, async () => {
      const clock = testClock();
      await fn(await make(clock), clock);
    });

  test("an unknown key runs the work and resolves its outcome", async (store) => {
    const { work, runs } = counted({ runId: "r1", status: "accepted" });
    assert.deepEqual(await store.run("k", "fp", work), { runId: "r1", status: "accepted" });
    assert.equal(runs(), 1);
  });

  test("a retry with the same key and fingerprint gets the first outcome without running", async (store) => {
    const first = counted({ n: 1 });
    const second = counted({ n: 2 });
    await store.run("k", "fp", first.work);
    assert.deepEqual(await store.run("k", "fp", second.work), { n: 1 });
    assert.equal(second.runs(), 0);
  });

  test("concurrent duplicates run the work once and all get its outcome", async (store) => {
    const { work, runs } = counted({ ok: true, nested: { list: [1, 2, 3] } }, 20);
    const results = await Promise.all(Array.from({ length: 10 }, () => store.run("k", "fp", work)));
    assert.equal(runs(), 1);
    for (const result of results) assert.deepEqual(result, { ok: true, nested: { list: [1, 2, 3] } });
  });

  test("a key reused with another fingerprint is refused with IdempotencyConflict", async (store) => {
    await store.run("k", "fp-a", counted(1).work);
    const other = counted(2);
    await assert.rejects(store.run("k", "fp-b", other.work), (error: unknown) => {
      assert.ok(error instanceof IdempotencyConflict);
      assert.equal(error.key, "k");
      return true;
    });
    assert.equal(other.runs(), 0);
  });

  test("a failed attempt is not remembered: the retry runs again", async (store) => {
    await assert.rejects(
      store.run("k", "fp", () => Promise.reject(new Error("upstream down"))),
      /upstream down/,
    );
    const retry = counted("second try");
    assert.equal(await store.run("k", "fp", retry.work), "second try");
    assert.equal(retry.runs(), 1);
  });

  test("records live the TTL and no longer", async (store, clock) => {
    await store.run("k", "fp", counted("first").work);
    clock.advance(IDEMPOTENCY_TTL_MS - 1);
    assert.equal(await store.run("k", "fp", counted("second").work), "first");
    clock.advance(2);
    const late = counted("third");
    assert.equal(await store.run("k", "fp-other", late.work), "third", "an expired key is free for anything");
    assert.equal(late.runs(), 1);
  });

  test("keys are independent of each other", async (store) => {
    assert.equal(await store.run("a", "fp", counted("A").work), "A");
    assert.equal(await store.run("b", "fp", counted("B").work), "B");
    assert.equal(await store.run("A", "fp", counted("upper").work), "upper", "keys are case-sensitive");
  });

  test("parallel first calls on distinct keys each run once", async (store) => {
    const works = Array.from({ length: 50 }, (_, i) => counted(i, 1));
    const results = await Promise.all(works.map((w, i) => store.run(`k${i}`, "fp", w.work)));
    assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => i));
    assert.ok(works.every((w) => w.runs() === 1));
  });
}
