// A turn whose lease cannot be renewed (the store unreachable) stops before the lease could run out,
// so it never writes while another replica may already hold the session.
import assert from "node:assert/strict";
import { SessionLeases } from "../lib/agents/session-lease.ts";
import { GatewayError } from "../lib/errors.ts";
import { MemoryLeaseStore } from "../lib/state/leases.ts";
import { heldTurn } from "./_held_turn.ts";

const TTL = 60;

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A memory lease store on `clock` whose renewals throw while `down.value` is set. */
function flakyStore(clock: { now: number }, down: { value: boolean }) {
  const store = new MemoryLeaseStore(() => clock.now);
  let renewals = 0;
  const renew = store.renew.bind(store);
  store.renew = (key, token, ttlMs) => {
    renewals++;
    return down.value ? Promise.reject(new Error("store unreachable")) : renew(key, token, ttlMs);
  };
  return { store, renewals: () => renewals };
}

Deno.test("a turn whose lease renewals fail stops before the lease could expire, not after", async () => {
  const clock = { now: 0 };
  const down = { value: true };
  const { store, renewals } = flakyStore(clock, down);
  const errors: unknown[] = [];
  const leases = new SessionLeases({
    store,
    owner: "a",
    ttlMs: TTL,
    now: () => clock.now,
    onRenewError: (error) => errors.push(error),
  });
  const turn = heldTurn(leases);
  await until(() => renewals() >= 1, "a first renewal");
  const lost = turn.signal()!;
  assert.equal(lost.aborted, false, "one failed renewal with time left keeps the turn going");
  clock.now = TTL * 2 / 3;
  await until(() => lost.aborted, "the turn to be stopped");
  assert.ok(lost.reason instanceof GatewayError);
  assert.equal(lost.reason.code, "UNAVAILABLE");
  assert.equal(lost.reason.retryable, true);
  assert.equal(await store.acquire("session:s1", "b", TTL), null, "stopped while the lease was still ours");
  assert.ok(errors.length >= 2, "each failure is still reported");
  turn.finish();
  await turn.done;
});

Deno.test("a renewal that fails once and then succeeds keeps the turn going", async () => {
  const clock = { now: 0 };
  const down = { value: true };
  const { store, renewals } = flakyStore(clock, down);
  const leases = new SessionLeases({ store, owner: "a", ttlMs: TTL, now: () => clock.now });
  const turn = heldTurn(leases);
  await until(() => renewals() >= 1, "a failed renewal");
  down.value = false;
  clock.now = TTL / 3;
  const before = renewals();
  await until(() => renewals() >= before + 1, "a successful renewal");
  clock.now = TTL;
  const after = renewals();
  await until(() => renewals() >= after + 1, "another renewal");
  assert.equal(turn.signal()!.aborted, false);
  turn.finish();
  await turn.done;
});
