// The contract every LeaseStore meets; the factory gets the clock its expiry must run on.
import assert from "node:assert/strict";
import type { LeaseStore } from "../../lib/state/leases.ts";
import { type TestClock, testClock } from "./_clock.ts";

/** Registers the LeaseStore contract tests for the implementation `name`. */
export function leasesContract(
  name: string,
  make: (now: () => number) => LeaseStore | Promise<LeaseStore>,
): void {
  const test = (title: string, body: (store: LeaseStore, clock: TestClock) => Promise<void>) =>
    Deno.test(`LeaseStore contract (${name}): ${title}`, async () => {
      const clock = testClock();
      await body(await make(clock.now), clock);
    });

  test("a free key is granted; a held one is refused to everyone, its holder included", async (store) => {
    const token = await store.acquire("k", "a", 1_000);
    assert.equal(typeof token, "string");
    assert.equal(await store.acquire("k", "b", 1_000), null);
    assert.equal(await store.acquire("k", "a", 1_000), null);
    assert.notEqual(await store.acquire("other", "b", 1_000), null, "keys are independent");
  });

  test("release frees the key; a wrong token releases nothing", async (store) => {
    const token = (await store.acquire("k", "a", 1_000))!;
    await store.release("k", "not-the-token");
    assert.equal(await store.acquire("k", "b", 1_000), null);
    await store.release("k", token);
    assert.notEqual(await store.acquire("k", "b", 1_000), null);
  });

  test("a lease expires after its TTL unless renewed", async (store, clock) => {
    const token = (await store.acquire("k", "a", 1_000))!;
    clock.advance(999);
    assert.equal(await store.acquire("k", "b", 1_000), null);
    assert.equal(await store.renew("k", token, 1_000), true);
    clock.advance(999);
    assert.equal(await store.acquire("k", "b", 1_000), null, "the renewal counts from its own time");
    clock.advance(1);
    const next = await store.acquire("k", "b", 1_000);
    assert.notEqual(next, null, "an expired lease frees the key");
    assert.notEqual(next, token);
  });

  test("an expired holder can neither renew nor release the next holder's lease", async (store, clock) => {
    const old = (await store.acquire("k", "a", 1_000))!;
    clock.advance(1_000);
    assert.equal(await store.renew("k", old, 1_000), false);
    const current = (await store.acquire("k", "b", 1_000))!;
    assert.equal(await store.renew("k", old, 1_000), false);
    await store.release("k", old);
    assert.equal(await store.acquire("k", "c", 1_000), null, "b still holds it");
    assert.equal(await store.renew("k", current, 1_000), true);
  });

  test("renewing a released lease fails", async (store) => {
    const token = (await store.acquire("k", "a", 1_000))!;
    await store.release("k", token);
    assert.equal(await store.renew("k", token, 1_000), false);
  });

  test("of many concurrent acquires exactly one wins", async (store) => {
    const tokens = await Promise.all(
      Array.from({ length: 30 }, (_, i) => store.acquire("k", `o${i}`, 1_000)),
    );
    assert.equal(tokens.filter((t) => t !== null).length, 1);
  });

  test("tokens are never reused, even by the same owner", async (store, clock) => {
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const token = (await store.acquire("k", "a", 10))!;
      assert.equal(seen.has(token), false);
      seen.add(token);
      clock.advance(10);
    }
  });
}
