// Two real `openclaw gateway run` replicas on one real redis-server (`appendfsync always`): a chat.send that
// replica A acknowledged while it waited behind A's own slow turn survives the SIGKILL of A: replica B
// finds it in the turn queue, takes the session once A's lease lapsed, writes the message and runs its turn.
import assert from "node:assert/strict";
import { SESSION_LEASE_TTL_MS } from "../lib/agents/session-lease.ts";
import { historyText } from "./_helpers.ts";
import type { WsSession } from "./_evidence_clients.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";
import { freePort } from "./_runner_process.ts";
import { CLUSTER_TTL_MS, operator, scriptedUpstream, startReplica } from "./_turn_queue_cluster.ts";

Deno.test({
  name: "kill -9 of the replica that acknowledged a waiting chat.send: another replica writes and runs it",
  // CI installs redis-server (.ci/run): there a missing one fails instead of skipping.
  ignore: !REDIS_SERVER && !Deno.env.get("CI"),
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
      const send = (message: string, idempotencyKey: string) =>
        onA.request("chat.send", { sessionKey: "main", message, idempotencyKey });

      await send("hold", "tq-1");
      const deadline = Date.now() + 10_000;
      while (!upstream.held.length) {
        assert.ok(Date.now() < deadline, "the first turn never reached the model");
        await new Promise((r) => setTimeout(r, 20));
      }
      // Waits behind the first turn on A: answered once it is in the turn queue, not in the transcript.
      assert.deepEqual(await send("second", "tq-2"), { runId: "tq-2", status: "started" });

      a.proc.child.kill("SIGKILL");
      await a.proc.status;
      const killedAt = Date.now();
      const texts = async () =>
        ((await onB.request("chat.history", { sessionKey: "main" })).messages as { content: string }[])
          .map(historyText);
      // A's session lease lapses after its TTL; B's sweep runs every third of the cluster TTL.
      const limit = SESSION_LEASE_TTL_MS + CLUSTER_TTL_MS + 5_000;
      for (;;) {
        const seen = await texts();
        if (seen.includes("Reply to: second")) {
          assert.deepEqual(seen, ["hold", "second", "Reply to: second"]);
          break;
        }
        assert.ok(Date.now() - killedAt < limit, `not run within ${limit} ms: ${JSON.stringify(seen)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const waited = await onB.request("agent.wait", { runId: "tq-2", timeoutMs: 5_000 });
      assert.equal(waited.status, "ok", "the run ended under its own id, heard on B");
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
