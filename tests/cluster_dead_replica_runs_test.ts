// Runs of a replica SIGKILLed mid-turn (issue 16: "runs (agent.wait and chat.abort reach a run on any
// replica)", "lose nothing when one dies", a retried `agent` "starts nothing new"): a survivor ends the run
// once its session's lease lapsed, `chat.abort` on a survivor ends it, and a retry of its call on another
// replica runs on the input already saved instead of saving it twice. Real redis-server, real
// `openclaw gateway run` processes on loopback (the audit of issue 16, gaps 2 and 3).
import assert from "node:assert/strict";
import { historyText } from "./_helpers.ts";
import { REDIS_SERVER } from "./_redis_server.ts";
import { SESSION_LEASE_TTL_MS } from "../lib/agents/session-lease.ts";
import { CLUSTER_TTL_MS, twoReplicasHoldingA } from "./_turn_queue_cluster.ts";

type Json = Record<string, unknown>;
const ignore = !REDIS_SERVER && !Deno.env.get("CI");

// Once the dead replica's session lease has lapsed (30 s), the turn-queue sweep of a survivor ends its run
// with a retryable error: `agent.wait` answers, and the session's clients get the `chat` error.
Deno.test({
  name: "a run whose replica died mid-turn is ended (agent.wait answers) once its lease lapsed",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using cluster = await twoReplicasHoldingA();
    cluster.a.proc.child.kill("SIGKILL");
    await cluster.a.proc.status;
    const killedAt = Date.now();
    assert.deepEqual(await cluster.historyOnB(), ["hold"], "the acknowledged input survived");
    // Past the lease's TTL and a sweep; then give the survivor 10 s more to notice.
    const waitMs = SESSION_LEASE_TTL_MS + CLUSTER_TTL_MS + 10_000 - (Date.now() - killedAt);
    const waited = await cluster.onB.session.request(
      "agent.wait",
      { runId: "tq-1", timeoutMs: waitMs },
      waitMs + 10_000,
    );
    assert.equal(waited.ok, true, JSON.stringify(waited));
    assert.notEqual(
      (waited.payload as Json).status,
      "timeout",
      `dead run never ended: ${JSON.stringify(waited)}`,
    );
    assert.equal((waited.payload as Json).status, "error", JSON.stringify(waited));
    assert.match(String((waited.payload as Json).error), /replica stopped/);
    const chat = await cluster.onB.session.waitFor(
      (frame) =>
        frame.event === "chat" && (frame.payload as Json).runId === "tq-1" &&
        (frame.payload as Json).state === "error",
      5_000,
    );
    assert.match(String((chat.payload as Json).errorMessage), /replica stopped/);
  },
});

// Through chat.abort: on a survivor it ends the dead replica's running run (aborted), which no replica
// would otherwise act on, so `agent.wait` answers.
Deno.test({
  name: "chat.abort on a survivor ends a run whose replica died mid-turn",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using cluster = await twoReplicasHoldingA();
    cluster.a.proc.child.kill("SIGKILL");
    await cluster.a.proc.status;
    const aborted = await cluster.onB.request("chat.abort", { sessionKey: "main", runId: "tq-1" });
    assert.deepEqual(aborted, { ok: true, aborted: true, runIds: ["tq-1"] });
    const waited = await cluster.onB.request("agent.wait", { runId: "tq-1", timeoutMs: 5_000 });
    assert.notEqual(waited.status, "timeout", `the aborted run never ended: ${JSON.stringify(waited)}`);
  },
});

// An `agent` call whose replica is SIGKILLed mid-turn has its input saved but no outcome; its client's
// retry (same idempotencyKey) on B takes the key over once the claim lapses (15 s) and, once A's session
// lease lapses (30 s), runs the turn on the input A saved: the transcript never reads ["hold", "hold"].
Deno.test({
  name: "an agent call retried on B after its replica died mid-turn does not save its input twice",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using cluster = await twoReplicasHoldingA();
    const params = { sessionKey: "other", message: "hold", idempotencyKey: "ag-1" };
    cluster.onA.session.request("agent", params, 120_000).catch(() => {});
    const history = async () =>
      ((await cluster.onB.request("chat.history", { sessionKey: "other" })).messages as { content: string }[])
        .map(historyText);
    for (const deadline = Date.now() + 10_000; !(await history()).length;) {
      assert.ok(Date.now() < deadline, "A never saved the input");
      await new Promise((r) => setTimeout(r, 100));
    }
    cluster.a.proc.child.kill("SIGKILL");
    await cluster.a.proc.status;
    cluster.onB.session.request("agent", params, 120_000).catch(() => {});
    // Past the idempotency claim's 15 s and the session lease's 30 s, and a sweep.
    const until = Date.now() + SESSION_LEASE_TTL_MS + CLUSTER_TTL_MS + 10_000;
    while (Date.now() < until) {
      const seen = await history();
      assert.deepEqual(seen, ["hold"], "the retried call's input was saved twice");
      await new Promise((r) => setTimeout(r, 1_000));
    }
  },
});
