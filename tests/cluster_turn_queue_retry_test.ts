// Two real `openclaw gateway run` replicas on one real redis-server (`appendfsync always`): an `agent` call
// that replica A acknowledged while it waited behind A's own slow turn, SIGKILL of A, and the client's retry
// of the same call on replica B. The queue holds one item per run id, so the turn runs once, not once for
// A's queued copy and once for the retry.
import assert from "node:assert/strict";
import { SESSION_LEASE_TTL_MS } from "../lib/agents/session-lease.ts";
import { historyText } from "./_helpers.ts";
import type { WsSession } from "./_evidence_clients.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";
import { freePort } from "./_runner_process.ts";
import { operator, scriptedUpstream, startReplica } from "./_turn_queue_cluster.ts";

Deno.test({
  name: "kill -9 of the replica running a waiting `agent` call, whose client retries it on B: it runs once",
  ignore: !REDIS_SERVER,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const redis = await startRedisServer(freePort(), { appendfsync: "always" });
    const upstream = scriptedUpstream();
    const [a, b] = await Promise.all([
      startReplica(redis.url, upstream.url),
      startReplica(redis.url, upstream.url),
    ]);
    const sessions: WsSession[] = [];
    try {
      await Promise.all([a, b].map((r) => r.proc.waitFor(/gateway listening/, 90_000)));
      const onA = await operator(a.port);
      const onB = await operator(b.port);
      sessions.push(onA.session, onB.session);
      await onA.request("chat.send", { sessionKey: "main", message: "hold", idempotencyKey: "tq-1" });
      const deadline = Date.now() + 10_000;
      while (!upstream.held.length) {
        assert.ok(Date.now() < deadline, "the first turn never reached the model");
        await new Promise((r) => setTimeout(r, 20));
      }
      const params = { sessionKey: "main", message: "second", idempotencyKey: "tq-2" };
      const ack = await onA.request("agent", params);
      assert.equal(ack.status, "accepted");
      a.proc.child.kill("SIGKILL");
      await a.proc.status;
      // The client reconnects to B and retries its call with the same key (answered once the claim lapsed).
      const retried = await onB.session.request("agent", params, 60_000);
      assert.equal(retried.ok, true, JSON.stringify(retried));
      const texts = async () =>
        ((await onB.request("chat.history", { sessionKey: "main" })).messages as { content: string }[])
          .map(historyText);
      await new Promise((r) => setTimeout(r, SESSION_LEASE_TTL_MS + 8_000));
      assert.deepEqual(await texts(), ["hold", "second", "Reply to: second"]);
    } finally {
      for (const s of sessions) s.ws.terminate();
      for (const r of [a, b]) {
        await r.proc.stop("SIGKILL").catch(() => {});
        await r.home[Symbol.asyncDispose]();
      }
      await upstream.close();
      await redis.stop();
    }
  },
});
