// The StateVersionStore contract: every implementation (in-process, Redis) runs these.
import assert from "node:assert/strict";
import type { StateVersionStore } from "../../lib/state/state-version.ts";

/** Registers the StateVersionStore contract tests for `name`; `make` returns a fresh store. */
export function stateVersionContract(name: string, make: () => Promise<StateVersionStore>): void {
  const test = (what: string, fn: (store: StateVersionStore) => Promise<void>) =>
    Deno.test(`${name} stateVersion: ${what}`, async () => await fn(await make()));

  test("every counter starts at 1", async (store) => {
    assert.deepEqual(await store.current(), { presence: 1, health: 1 });
  });

  test("a bump adds one to its counter only and resolves all counters after it", async (store) => {
    assert.deepEqual(await store.bump("presence"), { presence: 2, health: 1 });
    assert.deepEqual(await store.bump("health"), { presence: 2, health: 2 });
    assert.deepEqual(await store.current(), { presence: 2, health: 2 });
  });

  test("what it resolves is a copy", async (store) => {
    const seen = await store.current();
    seen.presence = 99;
    const bumped = await store.bump("health");
    bumped.health = 99;
    assert.deepEqual(await store.current(), { presence: 1, health: 2 });
  });

  test("parallel bumps are atomic: each sees its own value, none is lost", async (store) => {
    const results = await Promise.all(Array.from({ length: 100 }, () => store.bump("presence")));
    assert.deepEqual(
      results.map((r) => r.presence).sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i + 2),
    );
    assert.deepEqual(await store.current(), { presence: 101, health: 1 });
  });
}
