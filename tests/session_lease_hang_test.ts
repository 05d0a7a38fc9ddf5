// A renewal that never answers (a partitioned store: TCP up, no reply) must still stop the turn
// before the lease could run out; today only a renewal that rejects does.
import assert from "node:assert/strict";
import { SessionLeases } from "../lib/agents/session-lease.ts";
import { MemoryLeaseStore } from "../lib/state/leases.ts";
import { heldTurn } from "./_held_turn.ts";

const TTL = 60;

Deno.test("a turn whose lease renewals hang stops before the lease could expire", async () => {
  const clock = { now: 0 };
  const store = new MemoryLeaseStore(() => clock.now);
  let renewals = 0;
  store.renew = () => {
    renewals++;
    return new Promise<boolean>(() => {}); // never settles
  };
  const leases = new SessionLeases({ store, owner: "a", ttlMs: TTL, now: () => clock.now });
  const turn = heldTurn(leases);
  const deadline = Date.now() + 2_000;
  while (renewals < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  clock.now = TTL * 2; // the lease has certainly run out in the store
  await new Promise((r) => setTimeout(r, TTL));
  assert.equal(await store.acquire("session:s1", "b", TTL) !== null, true, "another replica may take it now");
  const aborted = turn.signal()!.aborted;
  turn.finish();
  await turn.done;
  assert.ok(aborted, `the turn still runs after ${renewals} unanswered renewals and its lease expired`);
  assert.equal(renewals, 1, "no renewal is sent while the previous one awaits its answer");
});

Deno.test("a turn whose lease release hangs still finishes, and gives the lease back on its next turn", async () => {
  // The store's clock stands still: the first lease never expires by itself, so the next turn gets the
  // session only by giving that lease back first.
  const store = new MemoryLeaseStore(() => 0);
  const release = store.release.bind(store);
  let hang = true;
  store.release = (key, token) => hang ? new Promise<void>(() => {}) : release(key, token);
  const errors: unknown[] = [];
  const leases = new SessionLeases({
    store,
    owner: "a",
    ttlMs: TTL,
    onRenewError: (error) => errors.push(error),
  });
  assert.equal(await leases.hold("s1", new AbortController().signal, () => Promise.resolve("done")), "done");
  assert.match(String(errors[0]), /did not answer/);
  hang = false;
  await leases.hold("s1", AbortSignal.timeout(2_000), () => Promise.resolve());
  assert.notEqual(await store.acquire("session:s1", "b", TTL), null, "both leases were given back");
});
