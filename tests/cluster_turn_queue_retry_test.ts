// Two real `openclaw gateway run` replicas on one real redis-server (`appendfsync always`): an `agent` call
// that replica A acknowledged while it waited behind A's own slow turn, SIGKILL of A, and the client's retry
// of the same call on replica B. The queue holds one item per run id, so the turn runs once, not once for
// A's queued copy and once for the retry.
import assert from "node:assert/strict";
import { SESSION_LEASE_TTL_MS } from "../lib/agents/session-lease.ts";
import { REDIS_SERVER } from "./_redis_server.ts";
import { CLUSTER_TTL_MS, twoReplicasHoldingA } from "./_turn_queue_cluster.ts";

Deno.test({
  name: "kill -9 of the replica running a waiting `agent` call, whose client retries it on B: it runs once",
  // CI installs redis-server (.ci/run): there a missing one fails instead of skipping.
  ignore: !REDIS_SERVER && !Deno.env.get("CI"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // The retry must reach B while A's session lease still holds A's queued copy back, so that it adopts
    // that copy: it is answered once A's idempotency claim lapsed (15 s at most), which the default 30 s
    // lease outlasts (at least 20 s of it is left at the kill) and a short one would not.
    await using cluster = await twoReplicasHoldingA(SESSION_LEASE_TTL_MS);
    const params = { sessionKey: "main", message: "second", idempotencyKey: "tq-2" };
    const ack = await cluster.onA.request("agent", params);
    assert.equal(ack.status, "accepted");
    cluster.a.proc.child.kill("SIGKILL");
    await cluster.a.proc.status;
    const killedAt = Date.now();
    // The client reconnects to B and retries its call with the same key (answered once the claim lapsed).
    const retried = await cluster.onB.session.request("agent", params, 60_000);
    assert.equal(retried.ok, true, JSON.stringify(retried));
    // The turn runs once A's lease lapsed and a sweep went by; a second run of it would follow at once.
    const limit = SESSION_LEASE_TTL_MS + CLUSTER_TTL_MS + 8_000;
    while (!(await cluster.historyOnB()).includes("Reply to: second")) {
      assert.ok(Date.now() - killedAt < limit, `not run within ${limit} ms of the kill`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 5 * CLUSTER_TTL_MS));
    assert.deepEqual(await cluster.historyOnB(), ["hold", "second", "Reply to: second"]);
  },
});
