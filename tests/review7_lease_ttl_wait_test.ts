// Review 7: docs/scale-out.md says `gateway.cluster.sessionLeaseTtlMs` "is read when a turn takes its lease, so
// after a reload it applies to the leases taken from then on". `SessionLeases.hold` reads it before it starts
// asking (lib/agents/session-lease.ts `hold`), so a turn that waited behind another replica's turn across the
// reload takes its lease, later, with the old TTL.
import assert from "node:assert/strict";
import { SessionLeases } from "../lib/agents/session-lease.ts";
import { type LeaseStore, MemoryLeaseStore } from "../lib/state/leases.ts";

Deno.test("review7: a lease taken after a reload is taken with the reloaded TTL, even by a turn that waited", async () => {
  const store: LeaseStore = new MemoryLeaseStore();
  const acquired: number[] = [];
  const acquire = store.acquire.bind(store);
  store.acquire = (key, owner, ttlMs) => {
    acquired.push(ttlMs);
    return acquire(key, owner, ttlMs);
  };
  // Another replica runs the session.
  const other = (await store.acquire("session:s", "other", 60_000))!;
  let ttlMs = 30_000;
  const leases = new SessionLeases({ store, owner: "me", ttlMs: () => ttlMs, retryMs: 5 });
  const turn = leases.hold("s", new AbortController().signal, () => Promise.resolve());
  await new Promise((r) => setTimeout(r, 20));
  ttlMs = 5_000; // the reload
  await store.release("session:s", other);
  await turn;
  assert.equal(acquired.at(-1), 5_000, `the lease taken after the reload lasts ${acquired.at(-1)} ms`);
});
