// The RateLimitStore contract: every implementation (in-process, Redis) runs these.
import assert from "node:assert/strict";
import type { RateLimitStore } from "../../lib/state/rate-limit.ts";
import { type TestClock, testClock } from "./_clock.ts";

const LOCKOUT = { max: 3, windowMs: 1_000, lockoutMs: 5_000 };
const WINDOW = { max: 3, windowMs: 1_000 };

/** Registers the RateLimitStore contract tests for `name`; `make` returns an empty store on `clock`. */
export function rateLimitContract(
  name: string,
  make: (clock: TestClock) => Promise<RateLimitStore>,
): void {
  const test = (what: string, fn: (store: RateLimitStore, clock: TestClock) => Promise<void>) =>
    Deno.test(`${name} rate limits: ${what}`, async () => {
      const clock = testClock();
      await fn(await make(clock), clock);
    });

  test("an unknown key is not blocked and resetting it is harmless", async (store) => {
    assert.equal((await store.peek("nobody", LOCKOUT)).retryAfterMs, 0);
    await store.reset("nobody");
    assert.deepEqual(await store.hit("nobody", LOCKOUT), { allowed: true, retryAfterMs: 0 });
  });

  test(
    "the hit that reaches max starts the lockout; hits during it are refused and not counted",
    async (store, clock) => {
      assert.deepEqual(await store.hit("k", LOCKOUT), { allowed: true, retryAfterMs: 0 });
      assert.deepEqual(await store.hit("k", LOCKOUT), { allowed: true, retryAfterMs: 0 });
      assert.deepEqual(await store.hit("k", LOCKOUT), { allowed: true, retryAfterMs: 5_000 });
      assert.equal((await store.peek("k", LOCKOUT)).retryAfterMs, 5_000);
      clock.advance(2_000);
      assert.deepEqual(await store.hit("k", LOCKOUT), { allowed: false, retryAfterMs: 3_000 });
      assert.equal((await store.peek("k", LOCKOUT)).retryAfterMs, 3_000);
      clock.advance(3_000);
      assert.equal((await store.peek("k", LOCKOUT)).retryAfterMs, 0, "the lockout ends on time");
      // The lockout cleared the window: a fresh max-1 failures do not lock again.
      assert.equal((await store.hit("k", LOCKOUT)).retryAfterMs, 0);
      assert.equal((await store.hit("k", LOCKOUT)).retryAfterMs, 0);
      assert.equal((await store.peek("k", LOCKOUT)).retryAfterMs, 0);
    },
  );

  test("hits older than the window do not count", async (store, clock) => {
    await store.hit("k", LOCKOUT);
    await store.hit("k", LOCKOUT);
    clock.advance(1_000);
    assert.deepEqual(await store.hit("k", LOCKOUT), { allowed: true, retryAfterMs: 0 });
    assert.deepEqual(await store.hit("k", LOCKOUT), { allowed: true, retryAfterMs: 0 });
    clock.advance(999);
    assert.equal((await store.hit("k", LOCKOUT)).retryAfterMs, 5_000, "three inside one window lock");
  });

  test("reset forgets the hits but not a running lockout", async (store, clock) => {
    await store.hit("k", LOCKOUT);
    await store.hit("k", LOCKOUT);
    await store.reset("k");
    assert.equal((await store.hit("k", LOCKOUT)).retryAfterMs, 0, "the count started over");
    await store.hit("k", LOCKOUT);
    await store.hit("k", LOCKOUT);
    assert.equal((await store.peek("k", LOCKOUT)).retryAfterMs, 5_000);
    await store.reset("k");
    assert.equal((await store.peek("k", LOCKOUT)).retryAfterMs, 5_000, "a success does not lift a lockout");
    clock.advance(5_000);
    assert.equal((await store.peek("k", LOCKOUT)).retryAfterMs, 0);
  });

  test(
    "without a lockout a full window refuses until its oldest hit leaves; refusals are not counted",
    async (store, clock) => {
      await store.hit("k", WINDOW);
      clock.advance(100);
      await store.hit("k", WINDOW);
      clock.advance(100);
      assert.deepEqual(await store.hit("k", WINDOW), { allowed: true, retryAfterMs: 800 });
      clock.advance(100);
      assert.deepEqual(await store.hit("k", WINDOW), { allowed: false, retryAfterMs: 700 });
      assert.equal((await store.peek("k", WINDOW)).retryAfterMs, 700);
      clock.advance(700);
      assert.equal((await store.peek("k", WINDOW)).retryAfterMs, 0);
      assert.deepEqual(await store.hit("k", WINDOW), { allowed: true, retryAfterMs: 100 });
      assert.deepEqual(await store.hit("k", WINDOW), { allowed: false, retryAfterMs: 100 });
    },
  );

  test("peek reports the hits in the window, without counting one", async (store, clock) => {
    assert.deepEqual(await store.peek("k", LOCKOUT), { hits: 0, retryAfterMs: 0 });
    await store.hit("k", LOCKOUT);
    clock.advance(500);
    await store.hit("k", LOCKOUT);
    assert.deepEqual(await store.peek("k", LOCKOUT), { hits: 2, retryAfterMs: 0 });
    assert.deepEqual(await store.peek("k", LOCKOUT), { hits: 2, retryAfterMs: 0 }, "peeking counted nothing");
    clock.advance(500);
    assert.deepEqual(await store.peek("k", LOCKOUT), { hits: 1, retryAfterMs: 0 }, "the first hit left");
    await store.hit("k", LOCKOUT);
    await store.hit("k", LOCKOUT);
    assert.deepEqual(
      await store.peek("k", LOCKOUT),
      { hits: 0, retryAfterMs: 5_000 },
      "a lockout clears the hits",
    );
    await store.reset("k");
    assert.deepEqual(await store.peek("k", LOCKOUT), { hits: 0, retryAfterMs: 5_000 });
  });

  test("keys are independent", async (store) => {
    for (let i = 0; i < 3; i++) await store.hit("a", LOCKOUT);
    assert.equal((await store.peek("a", LOCKOUT)).retryAfterMs, 5_000);
    assert.equal((await store.peek("b", LOCKOUT)).retryAfterMs, 0);
    assert.deepEqual(await store.hit("b", WINDOW), { allowed: true, retryAfterMs: 0 });
  });

  test("parallel hits on one key admit exactly max", async (store) => {
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => store.hit("k", WINDOW)));
    assert.equal(verdicts.filter((v) => v.allowed).length, 3);
    const locked = await Promise.all(Array.from({ length: 20 }, () => store.hit("l", LOCKOUT)));
    assert.equal(locked.filter((v) => v.allowed).length, 3);
    assert.equal(
      locked.filter((v) => v.allowed && v.retryAfterMs === 5_000).length,
      1,
      "one hit started the lockout",
    );
  });

  test("parallel hits on many keys are each counted once", async (store) => {
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.hit(`k${i % 50}`, WINDOW)));
    const left = await Promise.all(Array.from({ length: 50 }, (_, i) => store.hit(`k${i}`, WINDOW)));
    assert.ok(left.every((v) => v.allowed && v.retryAfterMs > 0), "the third hit filled each window");
  });
}
