// Review 7: the session-lease renewal timer after a TTL reload. It speeds up to the shorter TTL while
// leases of two TTLs are held (lib/agents/session-lease.ts `hold`), but never slows back down while any lease
// is held, so on a busy replica whose TTL was raised every later lease is renewed at the old, shorter pace
// (each renewal one Redis round trip and, with `appendfsync always`, one fsync) for as long as the replica
// never runs out of turns. SessionLeaseOptions.ttlMs says a lease is "renewed every third of it".
import assert from "node:assert/strict";
import { SessionLeases } from "../lib/agents/session-lease.ts";
import { type LeaseStore, MemoryLeaseStore } from "../lib/state/leases.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("review7: once the short-TTL leases are gone, a long-TTL lease is renewed every third of its own TTL", async () => {
  const store: LeaseStore = new MemoryLeaseStore();
  const renewals: string[] = [];
  const renew = store.renew.bind(store);
  store.renew = (key, token, ttlMs) => {
    renewals.push(key);
    return renew(key, token, ttlMs);
  };
  let ttlMs = 300;
  const leases = new SessionLeases({ store, owner: "me", ttlMs: () => ttlMs });
  const shortDone = Promise.withResolvers<void>();
  const short = leases.hold("short", new AbortController().signal, () => shortDone.promise);
  await sleep(20);
  // A reload raises the TTL to 6 s; a turn starts under it while the 300 ms one still runs.
  ttlMs = 6_000;
  const longDone = Promise.withResolvers<void>();
  const long = leases.hold("long", new AbortController().signal, () => longDone.promise);
  await sleep(20);
  shortDone.resolve();
  await short;
  // Only the 6 s lease is held now: renewed every 2 s, it is due at most once in the next 1.5 s.
  const from = renewals.length;
  await sleep(1_500);
  const longRenewals = renewals.slice(from).filter((key) => key === "session:long").length;
  longDone.resolve();
  await long;
  assert.ok(longRenewals <= 1, `the 6 s lease was renewed ${longRenewals} times in 1.5 s`);
});
