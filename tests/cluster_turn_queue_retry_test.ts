// Two real `openclaw gateway run` replicas on one real redis-server (`appendfsync always`): an `agent` call
// that replica A acknowledged while it waited behind A's own slow turn, SIGKILL of A, and the client's retry
// of the same call on replica B. The queue holds one item per run id, so the turn runs once, not once for
// A's queued copy and once for the retry.
import assert from "node:assert/strict";
import { SESSION_LEASE_TTL_MS } from "../lib/agents/session-lease.ts";
import { REDIS_SERVER } from "./_redis_server.ts";
import { twoReplicasHoldingA } from "./_turn_queue_cluster.ts";

Deno.test({
  name: "kill -9 of the replica running a waiting `agent` call, whose client retries it on B: it runs once",
  // CI installs redis-server (.ci/run): there a missing one fails instead of skipping.
  ignore: !REDIS_SERVER && !Deno.env.get("CI"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using cluster = await twoReplicasHoldingA();
    const params = { sessionKey: "main", message: "second", idempotencyKey: "tq-2" };
    const ack = await cluster.onA.request("agent", params);
    assert.equal(ack.status, "accepted");
    cluster.a.proc.child.kill("SIGKILL");
    await cluster.a.proc.status;
    // The client reconnects to B and retries its call with the same key (answered once the claim lapsed).
    const retried = await cluster.onB.session.request("agent", params, 60_000);
    assert.equal(retried.ok, true, JSON.stringify(retried));
    await new Promise((r) => setTimeout(r, SESSION_LEASE_TTL_MS + 8_000));
    assert.deepEqual(await cluster.historyOnB(), ["hold", "second", "Reply to: second"]);
  },
});
