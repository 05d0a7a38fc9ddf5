// `gateway.cluster.sessionLeaseTtlMs`: how long a turn's session lease lasts (so how long a replica that died
// mid-turn blocks its sessions elsewhere). Bounds refused with a clear message, the runtime taking its leases
// for the configured TTL and a reload applying to the next lease, and leases of two TTLs held at once (the
// TTL changed mid-turn) both renewed in time. The kill -9 tests (tests/cluster_turn_queue_test.ts and the
// others on tests/_turn_queue_cluster.ts) run real replicas with a short one.
import assert from "node:assert/strict";
import { SESSION_LEASE_TTL_MS, SessionLeases, sessionLeaseTtlOf } from "../lib/agents/session-lease.ts";
import { CLUSTER_LEASE_TTL_DEFAULT_MS } from "../lib/config/sections/gateway.ts";
import type { GatewayConfig } from "../lib/config/schema.ts";
import { validateAuthoredConfig } from "../lib/config/unknown-keys.ts";
import { GatewayError } from "../lib/errors.ts";
import { createLogger, MemoryLogSink } from "../lib/log/logger.ts";
import { type LeaseStore, MemoryLeaseStore } from "../lib/state/leases.ts";
import { SINGLETON_LEASE_TTL_MS } from "../lib/state/singleton.ts";
import { memoryStores } from "../lib/state/stores.ts";
import { AgentRuntime } from "../lib/agents/runtime.ts";
import { createGateway } from "../mod.ts";
import { recordingProvider, userTurn } from "./_scripted_runtime.ts";

// Peer records of 1.5 s, so that every session TTL from 3 s up is at least twice theirs.
const cluster = (sessionLeaseTtlMs: unknown, leaseTtlMs?: number) => ({
  gateway: { cluster: { leaseTtlMs: leaseTtlMs ?? 1_500, sessionLeaseTtlMs } },
});

Deno.test("gateway.cluster.sessionLeaseTtlMs takes 3 s to 10 min in whole ms and refuses the rest clearly", () => {
  for (const ok of [3_000, 5_000, 30_000, 600_000]) {
    assert.equal(validateAuthoredConfig(cluster(ok)).ok, true, String(ok));
  }
  const issue = (value: unknown) => {
    const result = validateAuthoredConfig(cluster(value));
    assert.equal(result.ok, false, String(value));
    return !result.ok && result.issues[0];
  };
  assert.deepEqual(issue(2_999), {
    path: "gateway.cluster.sessionLeaseTtlMs",
    message:
      "at least 3000 ms: the lease is renewed every third of it, and a renewal needs a round trip to " +
      "the store and a free event loop within that third",
  });
  assert.deepEqual(issue(600_001), {
    path: "gateway.cluster.sessionLeaseTtlMs",
    message: "at most 600000 ms (10 min): a replica that dies mid-turn blocks its sessions on every other " +
      "replica for this long",
  });
  assert.equal((issue(4_000.5) as { path: string }).path, "gateway.cluster.sessionLeaseTtlMs");
  assert.equal((issue("30000") as { path: string }).path, "gateway.cluster.sessionLeaseTtlMs");
  // A gateway is not built on it: the error names the key and the reason.
  assert.throws(
    () => createGateway({ config: cluster(500) as GatewayConfig }),
    (error: unknown) =>
      error instanceof GatewayError && error.code === "CONFIG_INVALID" &&
      /^invalid config at gateway\.cluster\.sessionLeaseTtlMs: at least 3000 ms/.test(error.message),
  );
});

Deno.test("gateway.cluster.sessionLeaseTtlMs below twice leaseTtlMs is refused, and the default follows a longer leaseTtlMs", () => {
  const twice = (least: number) =>
    `at least twice gateway.cluster.leaseTtlMs (${least} ms): a dead replica's waiting turns are taken up ` +
    "only once it has left the peers, and a session lease that lapses sooner lets newer messages run " +
    "ahead of them (lower leaseTtlMs too for a faster takeover)";
  // The default leaseTtlMs (15 s) asks for 30 s at least: 5 s alone is refused, and says how to get it.
  const alone = validateAuthoredConfig({ gateway: { cluster: { sessionLeaseTtlMs: 5_000 } } });
  assert.deepEqual(!alone.ok && alone.issues, [{
    path: "gateway.cluster.sessionLeaseTtlMs",
    message: twice(30_000),
  }]);
  assert.equal(validateAuthoredConfig(cluster(5_000, 2_500)).ok, true);
  const short = validateAuthoredConfig(cluster(5_000, 2_501));
  assert.deepEqual(!short.ok && short.issues, [{
    path: "gateway.cluster.sessionLeaseTtlMs",
    message: twice(5_002),
  }]);
  assert.equal(
    SINGLETON_LEASE_TTL_MS,
    CLUSTER_LEASE_TTL_DEFAULT_MS,
    "the config's default is the singletons'",
  );
  // Unset, the TTL is the default unless peer records last longer than half of it.
  assert.equal(sessionLeaseTtlOf(undefined), SESSION_LEASE_TTL_MS);
  assert.equal(sessionLeaseTtlOf({ leaseTtlMs: 300 }), SESSION_LEASE_TTL_MS);
  assert.equal(sessionLeaseTtlOf({ leaseTtlMs: 60_000 }), 120_000);
  assert.equal(sessionLeaseTtlOf({ leaseTtlMs: 60_000, sessionLeaseTtlMs: 130_000 }), 130_000);
});

Deno.test("the runtime takes session leases for the configured TTL, and a reload applies to the next turn", async () => {
  // The bundle's own lease store (its transcripts' guards read it), recording the TTL of every acquire.
  const stores = memoryStores();
  const acquired: number[] = [];
  const acquire = stores.leases.acquire.bind(stores.leases);
  stores.leases.acquire = (key, owner, ttlMs) => {
    acquired.push(ttlMs);
    return acquire(key, owner, ttlMs);
  };
  let config: GatewayConfig = { agents: { defaults: { model: "rec/m" } } };
  const runtime = new AgentRuntime({
    config: () => config,
    env: {},
    now: () => Date.now(),
    logger: createLogger({ sinks: [new MemoryLogSink()] }),
    stores,
    fetch: () => Promise.reject(new Error("no network")),
    providers: { rec: recordingProvider().provider },
  });
  try {
    assert.equal((await runtime.startTurn(userTurn("one")).done).status, "ok");
    config = { ...config, gateway: { cluster: { sessionLeaseTtlMs: 5_000 } } };
    assert.equal((await runtime.startTurn(userTurn("two")).done).status, "ok");
    assert.deepEqual(acquired, [SESSION_LEASE_TTL_MS, 5_000]);
  } finally {
    runtime.close();
  }
});

Deno.test("a lease taken with a shorter TTL while a longer one is held is renewed in time, and so is the longer", async () => {
  const store: LeaseStore = new MemoryLeaseStore();
  let ttlMs = 3_000;
  const leases = new SessionLeases({ store, owner: "me", ttlMs: () => ttlMs });
  const longDone = Promise.withResolvers<void>();
  const long = leases.hold("long", new AbortController().signal, async (lost) => {
    await longDone.promise;
    return lost.aborted;
  });
  await new Promise((r) => setTimeout(r, 50));
  // The config now says 300 ms: the timer ticking by the held lease's 3 s would renew this one too late.
  ttlMs = 300;
  const short = await leases.hold("short", new AbortController().signal, async (lost) => {
    await new Promise((r) => setTimeout(r, 1_200));
    return lost.aborted;
  });
  assert.equal(short, false, "the 300 ms lease outlived four of its TTLs");
  longDone.resolve();
  assert.equal(await long, false, "the 3 s lease was kept too");
});
