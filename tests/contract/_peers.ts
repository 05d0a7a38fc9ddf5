// The PeerRegistry contract: every implementation (in-process, Redis) runs these, on a clock the test moves.
import assert from "node:assert/strict";
import type { PeerRegistry } from "../../lib/state/peers.ts";
import { type TestClock, testClock } from "./_clock.ts";

const a = { replicaId: "a", host: "h1", pid: 11, port: 18789, startedAt: 500 };
const b = { replicaId: "b", host: "h2", startedAt: 400 };

/** Registers the PeerRegistry contract tests for `name`; `make` returns an empty registry on `clock`. */
export function peersContract(name: string, make: (clock: TestClock) => Promise<PeerRegistry>): void {
  const test = (what: string, fn: (peers: PeerRegistry, clock: TestClock) => Promise<void>) =>
    Deno.test(`${name} peers: ${what}`, async () => {
      const clock = testClock();
      await fn(await make(clock), clock);
    });

  test("an empty registry lists no one", async (peers) => {
    assert.deepEqual(await peers.list(), []);
  });

  test(
    "announced replicas are listed as announced, stamped now, oldest start first",
    async (peers, clock) => {
      await peers.announce(a, 100);
      await peers.announce(b, 300);
      const now = clock.now();
      assert.deepEqual(await peers.list(), [{ ...b, lastSeenAt: now }, { ...a, lastSeenAt: now }]);
    },
  );

  test("replicas started at the same time are listed by id", async (peers) => {
    await peers.announce({ ...b, replicaId: "z", startedAt: 1 }, 100);
    await peers.announce({ ...b, replicaId: "m", startedAt: 1 }, 100);
    assert.deepEqual((await peers.list()).map((p) => p.replicaId), ["m", "z"]);
  });

  test("a replica that stops announcing drops out when its TTL runs out", async (peers, clock) => {
    await peers.announce(a, 100);
    await peers.announce(b, 300);
    clock.advance(99);
    assert.deepEqual((await peers.list()).map((p) => p.replicaId), ["b", "a"], "within its TTL");
    clock.advance(1);
    assert.deepEqual((await peers.list()).map((p) => p.replicaId), ["b"], "a's TTL ran out");
  });

  test("announcing again renews the TTL and the last-seen time", async (peers, clock) => {
    await peers.announce(a, 100);
    await peers.announce(b, 300);
    clock.advance(100);
    await peers.announce(a, 100);
    clock.advance(50);
    const now = clock.now();
    assert.deepEqual(await peers.list(), [{ ...b, lastSeenAt: now - 150 }, { ...a, lastSeenAt: now - 50 }]);
    await peers.announce({ ...a, port: 18790 }, 100);
    assert.equal(
      (await peers.list()).find((p) => p.replicaId === "a")?.port,
      18790,
      "the record is replaced",
    );
  });

  test("a removed replica is gone at once; removing an unknown one is harmless", async (peers) => {
    await peers.announce(a, 100);
    await peers.announce(b, 300);
    await peers.remove("b");
    await peers.remove("never-seen");
    assert.deepEqual((await peers.list()).map((p) => p.replicaId), ["a"]);
  });
}
