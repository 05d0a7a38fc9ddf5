// The IdempotencyStore contract: every implementation (in-process, Redis) runs these.
import assert from "node:assert/strict";
import {
  IDEMPOTENCY_TTL_MS,
  type IdempotencyClaim,
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
 * live {@link IDEMPOTENCY_TTL_MS} on `clock`. `claimsLapse`: the store's claims can lapse (replicas share
 * it), so it must say when one did (`IdempotencyClaim.lapsed`); otherwise it must leave that unset.
 */
export function idempotencyContract(
  name: string,
  make: (clock: TestClock) => Promise<IdempotencyStore>,
  { claimsLapse = false }: { claimsLapse?: boolean } = {},
): void {
  const test = (what: string, fn: (store: IdempotencyStore, clock: TestClock) => Promise<void>) =>
    Deno.test(`${name} idempotency: ${what}`, async () => {
      const clock = testClock();
      await fn(await make(clock), clock);
    });

  test("an unknown key runs the work and resolves its outcome", async (store) => {
    const { work, runs } = counted({ runId: "r1", status: "accepted" });
    assert.deepEqual(await store.run("ns", "k", "fp", work), { runId: "r1", status: "accepted" });
    assert.equal(runs(), 1);
  });

  test("a retry with the same key and fingerprint gets the first outcome without running", async (store) => {
    const first = counted({ n: 1 });
    const second = counted({ n: 2 });
    await store.run("ns", "k", "fp", first.work);
    assert.deepEqual(await store.run("ns", "k", "fp", second.work), { n: 1 });
    assert.equal(second.runs(), 0);
  });

  test("concurrent duplicates run the work once and all get its outcome", async (store) => {
    const { work, runs } = counted({ ok: true, nested: { list: [1, 2, 3] } }, 20);
    const results = await Promise.all(Array.from({ length: 10 }, () => store.run("ns", "k", "fp", work)));
    assert.equal(runs(), 1);
    for (const result of results) assert.deepEqual(result, { ok: true, nested: { list: [1, 2, 3] } });
  });

  test("a key reused with another fingerprint is refused with IdempotencyConflict", async (store) => {
    await store.run("ns", "k", "fp-a", counted(1).work);
    const other = counted(2);
    await assert.rejects(store.run("ns", "k", "fp-b", other.work), (error: unknown) => {
      assert.ok(error instanceof IdempotencyConflict);
      assert.equal(error.key, "k");
      return true;
    });
    assert.equal(other.runs(), 0);
  });

  test("a failed attempt is not remembered: the retry runs again", async (store) => {
    await assert.rejects(
      store.run("ns", "k", "fp", () => Promise.reject(new Error("upstream down"))),
      /upstream down/,
    );
    const retry = counted("second try");
    assert.equal(await store.run("ns", "k", "fp", retry.work), "second try");
    assert.equal(retry.runs(), 1);
  });

  test("records live the TTL and no longer", async (store, clock) => {
    await store.run("ns", "k", "fp", counted("first").work);
    clock.advance(IDEMPOTENCY_TTL_MS - 1);
    assert.equal(await store.run("ns", "k", "fp", counted("second").work), "first");
    clock.advance(2);
    const late = counted("third");
    assert.equal(
      await store.run("ns", "k", "fp-other", late.work),
      "third",
      "an expired key is free for anything",
    );
    assert.equal(late.runs(), 1);
  });

  test("keys are independent of each other", async (store) => {
    assert.equal(await store.run("ns", "a", "fp", counted("A").work), "A");
    assert.equal(await store.run("ns", "b", "fp", counted("B").work), "B");
    assert.equal(await store.run("ns", "A", "fp", counted("upper").work), "upper", "keys are case-sensitive");
  });

  test("a key names a record of its own namespace only", async (store) => {
    assert.equal(await store.run("rpc", "k", "fp-a", counted("method").work), "method");
    assert.equal(await store.run("hook", "k", "fp-b", counted("hook").work), "hook", "no conflict across");
    assert.equal(await store.run("rpc", "k", "fp-a", counted("again").work), "method");
    assert.equal(await store.run("hook", "k", "fp-b", counted("again").work), "hook");
  });

  test("ahead of its claim: the first call wins its claim; a duplicate's work, if started, loses it and its outcome is dropped", async (store) => {
    const claims: boolean[] = [];
    const work = (value: string) => async (claim: IdempotencyClaim) => {
      claims.push(await claim.won);
      return value;
    };
    assert.equal(await store.run("ns", "k", "fp", work("first"), { ahead: true }), "first");
    assert.deepEqual(claims, [true]);
    assert.equal(await store.run("ns", "k", "fp", work("second"), { ahead: true }), "first");
    assert.ok(claims.slice(1).every((won) => !won), "a duplicate never holds the key");
    await assert.rejects(
      store.run("ns", "k", "fp-other", work("third"), { ahead: true }),
      IdempotencyConflict,
    );
    assert.ok(claims.slice(1).every((won) => !won));
  });

  test("ahead of its claim: a failed call is not remembered, its retry runs and wins", async (store) => {
    await assert.rejects(
      store.run("ns", "k", "fp", () => Promise.reject(new Error("upstream down")), { ahead: true }),
      /upstream down/,
    );
    let won: boolean | undefined;
    const value = await store.run("ns", "k", "fp", async (claim) => {
      won = await claim.won;
      return "retried";
    }, { ahead: true });
    assert.equal(value, "retried");
    assert.equal(won, true);
  });

  test("a claim that follows one gone with no outcome says so, ahead or not; a key's first claim does not", async (store) => {
    const lapsed: (boolean | undefined)[] = [];
    const work = (ahead: boolean) =>
      store.run("ns", `k-${ahead}`, "fp", async (claim) => {
        lapsed.push(await claim.lapsed);
        return "ok";
      }, { ahead });
    const fail = (ahead: boolean) =>
      store.run("ns", `k-${ahead}`, "fp", () => Promise.reject(new Error("its replica died")), { ahead });
    for (const ahead of [true, false]) {
      await assert.rejects(fail(ahead), /its replica died/);
      await work(ahead);
    }
    await store.run("ns", "k-first", "fp", async (claim) => lapsed.push(await claim.lapsed));
    // A store whose claims cannot lapse (in one process) sets nothing.
    if (claimsLapse) assert.deepEqual(lapsed, [true, true, false]);
    else assert.deepEqual(lapsed, [undefined, undefined, undefined]);
  });

  test("parallel first calls on distinct keys each run once", async (store) => {
    const works = Array.from({ length: 50 }, (_, i) => counted(i, 1));
    const results = await Promise.all(works.map((w, i) => store.run("ns", `k${i}`, "fp", w.work)));
    assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => i));
    assert.ok(works.every((w) => w.runs() === 1));
  });
}

/**
 * Registers the per-namespace cap tests for `name`; `make` returns an empty store that keeps at most
 * `maxEntries` records per namespace, for {@link IDEMPOTENCY_TTL_MS} on `clock`.
 */
export function idempotencyCapContract(
  name: string,
  make: (clock: TestClock, maxEntries: number) => Promise<IdempotencyStore>,
): void {
  Deno.test(`${name} idempotency: a flood of one namespace's keys never evicts another's`, async () => {
    const store = await make(testClock(), 5);
    for (const [flooded, kept] of [["hook", "rpc"], ["rpc", "hook"]]) {
      for (let i = 0; i < 3; i++) await store.run(kept, `kept-${i}`, "fp", counted(`first ${i}`).work);
      for (let i = 0; i < 50; i++) await store.run(flooded, `flood-${i}`, "fp", counted(i).work);
      for (let i = 0; i < 3; i++) {
        const retry = counted("ran again");
        assert.equal(await store.run(kept, `kept-${i}`, "fp", retry.work), `first ${i}`, `${kept} kept-${i}`);
        assert.equal(retry.runs(), 0);
      }
      // The flooded namespace holds its cap: its newest records stay, its oldest went.
      assert.equal(await store.run(flooded, "flood-49", "fp", counted("ran again").work), 49);
      assert.equal(await store.run(flooded, "flood-0", "fp", counted("ran again").work), "ran again");
    }
  });
}
