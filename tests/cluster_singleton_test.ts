// Singletons: one replica at a time runs a cluster-wide job, and the job moves when its holder stops
// renewing (dies or loses the store). Redis-backed leases run the same scenario in cluster tests.
import assert from "node:assert/strict";
import { createGateway, type LeaseStore, MemoryLeaseStore, memoryStores, runSingleton } from "../mod.ts";
import { TOKEN } from "./_helpers.ts";

const TTL_MS = 90;

function replica(store: LeaseStore, owner: string, log: string[]) {
  return runSingleton({
    store,
    name: "job",
    owner,
    ttlMs: TTL_MS,
    run: (signal) =>
      new Promise<void>((resolve) => {
        log.push(`${owner} start`);
        signal.addEventListener("abort", () => (log.push(`${owner} stop`), resolve()), { once: true });
      }),
  });
}

const until = async (check: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
};

Deno.test("two replicas: one runs the job; when it stops, the other takes it over", async () => {
  const store = new MemoryLeaseStore();
  const log: string[] = [];
  const a = replica(store, "a", log);
  await until(() => a.held);
  const b = replica(store, "b", log);
  await new Promise((r) => setTimeout(r, TTL_MS * 2));
  assert.equal(b.held, false, "the second replica waits while the first renews");
  await a.stop();
  await until(() => b.held);
  await b.stop();
  assert.deepEqual(log, ["a start", "a stop", "b start", "b stop"]);
});

Deno.test("a holder that can no longer renew stops its job, and another replica takes over after the TTL", async () => {
  const shared = new MemoryLeaseStore();
  let cut = false;
  // Replica a's view of the store: once cut off, every call fails as a dead network would.
  const cutOff: LeaseStore = {
    acquire: (...args) => cut ? Promise.reject(new Error("unreachable")) : shared.acquire(...args),
    renew: (...args) => cut ? Promise.reject(new Error("unreachable")) : shared.renew(...args),
    release: (...args) => cut ? Promise.reject(new Error("unreachable")) : shared.release(...args),
  };
  const log: string[] = [];
  const a = replica(cutOff, "a", log);
  await until(() => a.held);
  const b = replica(shared, "b", log);
  cut = true;
  await until(() => log.includes("a stop"));
  await until(() => b.held);
  assert.deepEqual(log, ["a start", "a stop", "b start"]);
  await Promise.all([a.stop(), b.stop()]);
});

Deno.test("a module's singleton runs while the gateway runs and is stopped with it", async () => {
  const events: string[] = [];
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    stores: memoryStores(),
    modules: [{
      name: "ticker",
      setup: (context) =>
        context.runSingleton("ticker", (signal) => {
          events.push("run");
          signal.addEventListener("abort", () => events.push("aborted"), { once: true });
        }),
    }],
  });
  await gateway.start();
  await until(() => events.includes("run"));
  await gateway.stop();
  assert.deepEqual(events, ["run", "aborted"]);
});

Deno.test("a holder whose store stops answering (a hung link) stops its job before another replica takes it", async () => {
  const shared = new MemoryLeaseStore();
  let hung = false;
  const never = new Promise<never>(() => {});
  const hanging: LeaseStore = {
    acquire: (...args) => hung ? never : shared.acquire(...args),
    renew: (...args) => hung ? never : shared.renew(...args),
    release: (...args) => hung ? never : shared.release(...args),
  };
  const log: string[] = [];
  const a = replica(hanging, "a", log);
  await until(() => a.held);
  const b = replica(shared, "b", log);
  hung = true;
  await until(() => log.includes("b start"));
  assert.deepEqual(log, ["a start", "a stop", "b start"], "never both at once");
  await Promise.all([a.stop(), b.stop()]);
});
