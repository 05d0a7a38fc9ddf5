// An event loop that stalls past a lease's deadline must stop the turn on the first tick it wakes on,
// not only on a tick that happens to renew (the renewal may answer well after the turn wrote again).
import assert from "node:assert/strict";
import { SessionLeases } from "../lib/agents/session-lease.ts";
import { MemoryLeaseStore } from "../lib/state/leases.ts";
import { heldTurn } from "./_held_turn.ts";

const TTL = 60;

Deno.test("a turn whose event loop stalled past its lease's deadline stops on the next tick, renewal or not", async () => {
  const clock = { now: 0 };
  const store = new MemoryLeaseStore(() => clock.now);
  let renewals = 0;
  // The store would still answer a renewal (its own clock is not the stalled process's).
  store.renew = () => (renewals++, Promise.resolve(true));
  const leases = new SessionLeases({ store, owner: "a", ttlMs: TTL, now: () => clock.now });
  const turn = heldTurn(leases);
  while (!turn.signal()) await new Promise((r) => setTimeout(r, 0));
  const lost = turn.signal()!;
  clock.now = TTL; // the loop stalled for a whole TTL: past the deadline at two thirds of it
  const deadline = Date.now() + 2_000;
  while (!lost.aborted && renewals < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  const aborted = lost.aborted;
  turn.finish();
  await turn.done;
  assert.ok(aborted, `the turn still runs after ${renewals} renewals past its deadline`);
  assert.equal(renewals, 0, "lost on the first tick after the stall, before any renewal");
});
