// Runs of a replica SIGKILLed mid-turn (issue 16: "runs (agent.wait and chat.abort reach a run on any
// replica)", "lose nothing when one dies", a retried `agent` "starts nothing new"): a survivor ends the run
// once its session's lease lapsed, `chat.abort` on a survivor ends it, and a retry of its call on another
// replica runs on the input already saved instead of saving it twice. Real redis-server, real
// `openclaw gateway run` processes on loopback (the audit of issue 16, gaps 2 and 3).
import assert from "node:assert/strict";
import { historyText, pollUntil } from "./_helpers.ts";
import { onMemoryAndRedis, REDIS_SERVER } from "./_redis_server.ts";
import { sessionLeaseKey } from "../lib/agents/session-lease.ts";
import { RUN_ENDED_EVENT, type RunEvent } from "../lib/agents/runtime.ts";
import type { StoredRun } from "../lib/state/runs.ts";
import { recordingProvider, scriptedReplica, userTurn } from "./_scripted_runtime.ts";
import { CLUSTER_TTL_MS, SESSION_TTL_MS, twoReplicasHoldingA } from "./_turn_queue_cluster.ts";

type Json = Record<string, unknown>;
const ignore = !REDIS_SERVER && !Deno.env.get("CI");
/** How long a Redis idempotency claim outlives its dead holder (lib/state/redis/idempotency.ts). */
const CLAIM_TTL_MS = 15_000;

// Once the dead replica's session lease has lapsed (its configured TTL), the turn-queue sweep of a survivor ends its run
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
    const waitMs = SESSION_TTL_MS + CLUSTER_TTL_MS + 10_000 - (Date.now() - killedAt);
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

// An `agent` call whose replica is SIGKILLed mid-turn has its input saved but no outcome; A's session lease
// lapses (its configured TTL) and the sweep ends A's run; the client's retry (same idempotencyKey) on B
// takes the key over once the claim lapses (15 s) and runs the turn on the input A saved, up to the model
// (where "hold" stays): the transcript never reads ["hold", "hold"].
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
    // A is killed in the model: past saving the input (the "hold" of session main is the first turn there).
    for (
      const deadline = Date.now() + 10_000;
      !(await history()).length || cluster.upstream.held.length < 2;
    ) {
      assert.ok(Date.now() < deadline, "A never saved the input and reached the model");
      await new Promise((r) => setTimeout(r, 100));
    }
    cluster.a.proc.child.kill("SIGKILL");
    await cluster.a.proc.status;
    cluster.onB.session.request("agent", params, 120_000).catch(() => {});
    // Until the retried turn reaches the model, past the idempotency claim's 15 s, the session lease and a
    // sweep; once there, it has written all the input it ever will.
    const until = Date.now() + CLAIM_TTL_MS + SESSION_TTL_MS + CLUSTER_TTL_MS + 10_000;
    while (cluster.upstream.held.length < 3) {
      assert.deepEqual(await history(), ["hold"], "the retried call's input was saved twice");
      assert.ok(Date.now() < until, "the retried call never ran");
      await new Promise((r) => setTimeout(r, 250));
    }
    // And for a few sweeps more: one resuming a queued copy of the call again would save its input then.
    for (const after = Date.now() + 5 * CLUSTER_TTL_MS; Date.now() < after;) {
      assert.deepEqual(await history(), ["hold"], "the retried call's input was saved twice");
      await new Promise((r) => setTimeout(r, 250));
    }
  },
});

// Race safety of the sweep's part: a run is ended only when its replica is not alive AND its session's lease
// is free (a live replica running it holds the lease, whatever the peers registry says), and a run ended
// by two replicas at once is announced once.
onMemoryAndRedis(
  {
    memory:
      "the sweep ends a dead replica's running run once, never one whose lease is held or replica alive (memory)",
    redis:
      "the sweep ends a dead replica's running run once, never one whose lease is held or replica alive (redis)",
  },
  "deadruns:",
  async (a, b) => {
    const held = Promise.withResolvers<void>();
    const model = recordingProvider(() => held.promise);
    const onA = scriptedReplica(a, model.provider, "replica-a");
    const onB = scriptedReplica(b, recordingProvider().provider, "replica-b");
    const onC = scriptedReplica(b, recordingProvider().provider, "replica-c");
    const ends: unknown[] = [];
    const heard: RunEvent[] = [];
    const unsubscribe = b.bus.subscribe((event) => {
      if (event.internal && event.event === RUN_ENDED_EVENT) ends.push(event.payload);
    });
    // What the replica that ended it tells its run listeners (the `chat` error comes from there).
    for (const runtime of [onB, onC]) {
      runtime.onRunEvent((_, event) => event.type === "end" && heard.push(event));
    }
    try {
      const live = onA.startTurn({ ...userTurn("hold"), runId: "live" });
      await pollUntil(() => model.requests.length === 1, 5_000, "the turn to reach the model");
      const orphan = (runId: string, replicaId: string, sessionKey: string): StoredRun => ({
        runId,
        sessionKey,
        agentId: "main",
        acceptedAt: 1,
        state: "running",
        replicaId,
      });
      await b.runs.put(orphan("dead-run", "replica-dead", "agent:main:dead"), 60_000);
      await b.runs.put(orphan("alive-run", "replica-c", "agent:main:alive"), 60_000);
      // A is missing from the alive set (its peer record lapsed) but holds its session's lease.
      const alive = new Set(["replica-b", "replica-c"]);
      await Promise.all([onB.endOrphanedRuns(alive), onC.endOrphanedRuns(alive)]);
      assert.equal((await b.runs.get("live"))?.state, "running", "a run whose lease is held");
      assert.equal((await b.runs.get("alive-run"))?.state, "running", "a run of a live replica");
      const ended = await b.runs.get("dead-run");
      assert.equal(ended?.state, "error");
      assert.equal(ended?.end?.error?.code, "UNAVAILABLE");
      assert.match(ended?.end?.error?.message ?? "", /replica stopped/);
      await pollUntil(() => ends.length >= 1, 5_000, "the end to be announced");
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(ends.map((e) => (e as { runId: string }).runId), ["dead-run"], "announced once");
      assert.deepEqual(
        heard.map((e) => e.type === "end" && [e.outcome.runId, e.outcome.status]),
        [["dead-run", "error"]],
      );
      // The sweep released the lease it took to end the run.
      const token = await b.leases.acquire(sessionLeaseKey("agent:main:dead"), "someone", 1_000);
      assert.ok(token, "the session's lease is free again");
      held.resolve();
      assert.equal((await live.done).status, "ok");
      // Its own end is recorded after `done` (the ledger writes behind the turn).
      await pollUntil(async () => (await b.runs.get("live"))?.state === "ok", 5_000, "the live run's end");
      assert.deepEqual((await b.runs.running()).map((r) => r.runId), ["alive-run"]);
    } finally {
      held.resolve();
      unsubscribe();
      onA.close();
      onB.close();
      onC.close();
    }
  },
);
