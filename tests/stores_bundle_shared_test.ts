// Issue 14 item 7 (audit gap 2): every piece of shared state travels in the one `stores` bundle, so two
// replicas handed the same bundle (and nothing else) share cron jobs and see each other as peers.
import assert from "node:assert/strict";
import { agentsModule, clusterModule, cronModule, memoryStores } from "../mod.ts";
import type { QueuedTurn } from "../lib/state/turn-queue.ts";
import { pollUntil, startGateway, TOKEN } from "./_helpers.ts";

Deno.test("two replicas over one `stores` bundle (and nothing else) share cron jobs and peers", async () => {
  // One in-process bundle shared by two gateways stands for one backend shared by two replicas
  // (tests/contract/_replicas.ts); the modules get no store of their own, as an embedder writes it.
  const shared = memoryStores();
  const replica = () =>
    startGateway({ stores: shared, modules: [agentsModule(), cronModule(), clusterModule()] });
  const a = await replica();
  const b = await replica();
  try {
    await b.call("cron.add", {
      name: "Queue report",
      schedule: { kind: "every", everyMs: 3_600_000 },
      sessionTarget: "isolated",
      wakeMode: "now",
      payload: { kind: "agentTurn", message: "Report the queue depth." },
    });
    const unshared: string[] = [];
    const jobs = (await a.call("cron.list", { includeDisabled: true })) as { jobs: unknown[] };
    if (jobs.jobs.length !== 1) unshared.push(`cron.list on the other replica: ${jobs.jobs.length} jobs`);
    const { cluster } = (await a.call("status", {})) as { cluster: { peersAlive: number } };
    if (cluster.peersAlive !== 2) unshared.push(`status.cluster.peersAlive: ${cluster.peersAlive}`);
    assert.deepEqual(unshared, [], "shared state kept outside the stores bundle");
  } finally {
    await a.stop();
    await b.stop();
  }
});

/** A turn a replica that has died accepted and left waiting in the shared queue. */
function orphan(runId: string): QueuedTurn {
  return {
    runId,
    sessionKey: "agent:main:main",
    agentId: "main",
    messages: [{ role: "user", content: "still there?" }],
    origin: { kind: "chat" },
    acceptedAt: Date.now(),
    owner: "replica-that-died",
  };
}

const SHORT_LEASES = {
  gateway: { auth: { mode: "token" as const, token: TOKEN }, cluster: { leaseTtlMs: 300 } },
};

Deno.test("a replica over a `stores` bundle (and nothing else) runs the waiting turns of a dead one", async () => {
  const shared = memoryStores();
  await shared.turnQueue.enqueue(orphan("orphan-1"));
  const gateway = await startGateway({
    config: SHORT_LEASES,
    stores: shared,
    modules: [agentsModule(), clusterModule()],
  });
  try {
    await pollUntil(
      async () => (await shared.runs.get("orphan-1"))?.end !== undefined,
      5_000,
      "the turn to run",
    );
    assert.equal((await shared.runs.get("orphan-1"))?.end?.status, "ok");
  } finally {
    await gateway.stop();
  }
});

Deno.test("without the cluster module, whose announcements say who lives, no replica is taken for dead", async () => {
  const shared = memoryStores();
  await shared.turnQueue.enqueue(orphan("orphan-2"));
  const gateway = await startGateway({ config: SHORT_LEASES, stores: shared, modules: [agentsModule()] });
  try {
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(await shared.runs.get("orphan-2"), undefined, "the turn was left to its owner");
    assert.equal((await shared.turnQueue.list("agent:main:main")).length, 1);
  } finally {
    await gateway.stop();
  }
});
