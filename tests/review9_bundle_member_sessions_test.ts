// Review 9: `memoryStores()`'s sessions now guard a finished run with that bundle's own leases
// (`GuardedMemorySessionStore`, 6a74bfd). Handed alone to `completeStores` (which keeps a given member and
// fills the rest, leases included, with new in-process stores), it checks leases that no turn on the new
// bundle takes: `recordRunIfHeld` answers false and every turn ends in the lease-lost error. Before 6a74bfd
// the member was a plain `MemorySessionStore` and such a bundle ran its turns.
import assert from "node:assert/strict";
import { completeStores, memoryStores } from "../lib/state/stores.ts";
import { scriptedRuntime, userTurn } from "./_scripted_runtime.ts";

Deno.test("review9: a bundle completed around the sessions of a memoryStores() bundle runs its turns", async () => {
  const stores = completeStores({ sessions: memoryStores().sessions });
  const runtime = scriptedRuntime(stores);
  try {
    const outcome = await runtime.startTurn(userTurn("hi")).done;
    assert.equal(outcome.status, "ok", JSON.stringify(outcome.error));
  } finally {
    await stores.bus.close();
  }
});

Deno.test("a member of another memoryStores() bundle takes that bundle's sessions and leases along unless given its own", async () => {
  const other = memoryStores();
  // The transcripts check the other bundle's sessions and leases: both come along.
  const taken = completeStores({ transcripts: other.transcripts });
  assert.equal(taken.leases, other.leases);
  assert.equal(taken.sessions, other.sessions);
  const runtime = scriptedRuntime(taken);
  try {
    assert.equal((await runtime.startTurn(userTurn("hi")).done).status, "ok");
  } finally {
    await taken.bus.close();
  }
  // Leases given with it are kept (a wrapper around the same ones is legitimate).
  const leases = memoryStores().leases;
  assert.equal(completeStores({ sessions: other.sessions, leases }).leases, leases);
});
