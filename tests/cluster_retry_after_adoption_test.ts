// Two real `openclaw gateway run` replicas on one real redis-server (`appendfsync always`): an `agent` call
// that replica A acknowledged while it waited behind A's own slow turn, SIGKILL of A, replica B running A's
// queued copy once A's session lease (5 s here) lapsed, and only then the client's retry of the same call on
// B. The retry's claim on the key is a fresh one (A's lapsed), yet the turn ran already: the retry is
// answered with that run's outcome and the model is not asked again.
import assert from "node:assert/strict";
import { REDIS_SERVER } from "./_redis_server.ts";
import { CLUSTER_TTL_MS, SESSION_TTL_MS, twoReplicasHoldingA } from "./_turn_queue_cluster.ts";

type Json = Record<string, unknown>;

Deno.test({
  name: "a retry of an `agent` call whose queued copy another replica already ran starts nothing new",
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
    const killedAt = Date.now();
    // B adopts A's queued copy once A's session lease lapsed and a sweep went by, and runs it.
    const limit = SESSION_TTL_MS + CLUSTER_TTL_MS + 8_000;
    while (!(await cluster.historyOnB()).includes("Reply to: second")) {
      assert.ok(Date.now() - killedAt < limit, `not run within ${limit} ms of the kill`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const first = await cluster.onB.request("agent.wait", { runId: "tq-2", timeoutMs: 5_000 });
    assert.equal(first.status, "ok", JSON.stringify(first));
    // The client reconnects to B and retries its call with the same key: answered once A's claim lapsed
    // (15 s after A's last renewal at most), with the run B made of A's copy.
    const { session } = cluster.onB;
    session.ws.send(JSON.stringify({ type: "req", id: "retry", method: "agent", params }));
    const answered = (accepted: boolean) => (f: Json) =>
      f.type === "res" && f.id === "retry" && ((f.payload as Json)?.status === "accepted") === accepted;
    const retried = await session.waitFor(answered(false), 60_000);
    assert.equal(retried.ok, true, JSON.stringify(retried));
    // Its acknowledgement, as for any `agent` call, carries the first call's acceptance.
    const accepted = (await session.waitFor(answered(true))).payload as Json;
    assert.deepEqual(accepted, ack);
    const final = retried.payload as Json;
    assert.equal(final.runId, "tq-2");
    assert.equal(final.status, "ok", JSON.stringify(final));
    const result = final.result as { payloads: { text: string }[]; meta: { durationMs: number } };
    assert.deepEqual(result.payloads, [{ text: "Reply to: second" }]);
    assert.equal(result.meta.durationMs, (first.endedAt as number) - (first.startedAt as number));
    // A second run of the turn would follow the retry at once: give it a few sweeps to show.
    await new Promise((r) => setTimeout(r, 3 * CLUSTER_TTL_MS));
    assert.deepEqual(cluster.upstream.asked.filter((m) => m === "second"), ["second"]);
    assert.deepEqual(await cluster.historyOnB(), ["hold", "second", "Reply to: second"]);
  },
});
