// Two real `openclaw gateway run` replicas on one real redis-server (`appendfsync always`): an `agent` call
// that replica A acknowledged while it waited behind A's own slow turn, SIGKILL of A, replica B running A's
// queued copy once A's session lease (5 s here) lapsed, and only then the client's retry of the same call on
// B. The retry's claim on the key is a fresh one (A's lapsed), yet the turn ran already: the retry is
// answered with that run's outcome and the model is not asked again.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { agentsModule } from "../lib/agents/mod.ts";
import { RUN_ENDED_EVENT } from "../lib/agents/runtime.ts";
import { sessionLeaseKey } from "../lib/agents/session-lease.ts";
import type { RunEnd } from "../lib/state/runs.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { redisStores } from "../stores/redis.ts";
import { client, historyText, startGateway, TOKEN } from "./_helpers.ts";
import { IGNORE_WITHOUT_REDIS, REDIS_SERVER, startRedisServer } from "./_redis_server.ts";
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

// The same question on one in-process gateway over Redis, its run records written as other replicas
// would have: whether the run a retry's key names stands decides whether the retry runs the turn.
const AGENTS = { defaults: { model: { primary: "local/scripted-1" } } };
const SESSION = "agent:main:main";
/** The history of the turn `elsewhere` runs first. */
const BEFORE = ["before", 'Local model reply #1: you said "before".'];

/** A gateway over fresh Redis stores, whose peers registry is theirs; disposing stops all of it. */
async function replicaOnRedis() {
  const server = await startRedisServer();
  const stores = await redisStores({ url: server.url, keyPrefix: "rta:" });
  const gateway = await startGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } }, agents: AGENTS },
    stores,
    modules: [agentsModule({ peers: stores.peers })],
  });
  const operator = await client(gateway);
  let ids = 0;
  return {
    stores,
    server,
    /** Sends a keyed `agent` call; resolves its acknowledgement and its final answer. */
    async agent(idempotencyKey: string, message = "across") {
      const id = `agent-${++ids}`;
      operator.socket.send({
        type: "req",
        id,
        method: "agent",
        params: { sessionKey: "main", message, idempotencyKey },
      });
      const status = (f: Frame) => f.type === "res" && f.id === id && (f.payload as Json)?.status;
      const final = await operator.socket.waitFor((f) => !!status(f) && status(f) !== "accepted", 10_000);
      const ack = operator.socket.skipped.find((f) => status(f) === "accepted");
      return { ack: ack?.payload as Json, final: final.payload as Json };
    },
    /**
     * Another replica's run of the turn `runId` ("across") in the session, which a turn ("before") opened
     * already: it holds the session, recorded the run (running) and wrote its input; `end` writes its
     * reply, records and announces its end, and gives the session back.
     */
    async elsewhere(runId: string, replicaId: string) {
      if (!await stores.sessions.get(SESSION)) {
        assert.equal((await this.agent("k-before", "before")).final.status, "ok");
      }
      const ref = { agentId: "main", sessionId: (await stores.sessions.get(SESSION))!.sessionId };
      const lease = await stores.leases.acquire(sessionLeaseKey(SESSION), replicaId, 60_000);
      assert.ok(lease);
      const run = { runId, sessionKey: SESSION, agentId: "main", acceptedAt: 42, replicaId };
      await stores.runs.put({ ...run, state: "running" }, 60_000);
      const input = { id: "in-1", ts: 60, runId, role: "user" as const, content: "across" };
      await stores.transcripts.append(ref, [input], { inputOf: runId });
      return {
        async end(text: string) {
          const reply = { id: "out-1", ts: 70, runId, role: "assistant" as const, content: text };
          await stores.transcripts.append(ref, [reply]);
          const end: RunEnd = {
            status: "ok",
            startedAt: 60,
            endedAt: 70,
            reply: { text, finishReason: "stop" },
          };
          await stores.runs.put({ ...run, state: "ok", end }, 60_000);
          const payload = { runId, end };
          stores.bus.publish({ event: RUN_ENDED_EVENT, payload, sessionKey: SESSION, internal: true });
          await stores.leases.release(sessionLeaseKey(SESSION), lease);
        },
      };
    },
    /** Leaves a claim on `key` that is gone with no outcome, as one whose replica died leaves it. */
    lapse: (key: string) =>
      stores.idempotency.run("rpc", key, "", () => Promise.reject(new Error("its replica died")))
        .catch(() => {}),
    /** The texts of the session's history. */
    history: async () =>
      ((await operator.request("chat.history", { sessionKey: "main" })).payload as { messages: [] }).messages
        .map(historyText),
    [Symbol.asyncDispose]: async () => {
      await gateway.stop();
      await stores.close();
      await server.stop();
    },
  };
}

Deno.test({
  name:
    "a call sent again once its claim lapsed is answered from its run, which ended: the model is not asked",
  ignore: IGNORE_WITHOUT_REDIS,
  async fn() {
    await using replica = await replicaOnRedis();
    const first = await replica.agent("k-ran");
    assert.equal(first.final.status, "ok", JSON.stringify(first.final));
    // Its replica died and its claim lapsed: the key's record is gone, its run's stays.
    const raw = createClient({ url: replica.server.url });
    await raw.connect();
    assert.equal(await raw.del("rta:idempotency:rpc:k-ran"), 1);
    await raw.close();
    const again = await replica.agent("k-ran");
    assert.deepEqual(again, first);
    assert.deepEqual(await replica.history(), ["across", 'Local model reply #1: you said "across".']);
  },
});

Deno.test({
  name: "a call sent again while a live replica runs its turn waits for that run and gets its outcome",
  ignore: IGNORE_WITHOUT_REDIS,
  async fn() {
    await using replica = await replicaOnRedis();
    const { stores } = replica;
    // Replica "other" runs the turn: it is alive, holds the session, recorded the run and wrote its input.
    await stores.peers.announce({ replicaId: "other", host: "h", startedAt: 1 }, 60_000);
    const other = await replica.elsewhere("k-live", "other");
    await replica.lapse("k-live");
    const answered = replica.agent("k-live");
    let settled = false;
    answered.then(() => settled = true, () => settled = true);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(settled, false);
    await other.end("from other");
    const { ack, final } = await answered;
    assert.deepEqual([ack.runId, ack.status], ["k-live", "accepted"]);
    assert.equal(final.status, "ok", JSON.stringify(final));
    const result = final.result as { payloads: unknown[]; meta: { durationMs: number } };
    assert.deepEqual(result.payloads, [{ text: "from other" }]);
    assert.equal(result.meta.durationMs, 10);
    assert.deepEqual(await replica.history(), [...BEFORE, "across", "from other"]);
    assert.deepEqual(await stores.turnQueue!.list(SESSION), []);
  },
});

Deno.test({
  name: "a call sent again after its run was ended as stopped with its replica runs the turn",
  ignore: IGNORE_WITHOUT_REDIS,
  async fn() {
    await using replica = await replicaOnRedis();
    const error = { code: "UNAVAILABLE", message: "the run ended: its replica stopped", retryable: true };
    await replica.stores.runs.put({
      runId: "k-stopped",
      sessionKey: SESSION,
      agentId: "main",
      acceptedAt: 42,
      replicaId: "gone",
      state: "error",
      end: { status: "error", startedAt: 50, endedAt: 80, error },
    }, 60_000);
    await replica.lapse("k-stopped");
    const { final } = await replica.agent("k-stopped");
    assert.deepEqual((final.result as { payloads: unknown[] }).payloads, [
      { text: 'Local model reply #1: you said "across".' },
    ]);
    assert.deepEqual(await replica.history(), ["across", 'Local model reply #1: you said "across".']);
  },
});

Deno.test({
  name:
    "a retry that read its run as a dead replica's, then waited while another replica ran it, runs nothing",
  ignore: IGNORE_WITHOUT_REDIS,
  async fn() {
    await using replica = await replicaOnRedis();
    const { stores } = replica;
    // As the retry reads it, the run is the dead replica's, queued; an adopter holds the session meanwhile.
    assert.equal((await replica.agent("k-before", "before")).final.status, "ok");
    const run = { runId: "k-raced", sessionKey: SESSION, agentId: "main", acceptedAt: 42 };
    await stores.runs.put({ ...run, state: "queued", replicaId: "gone" }, 60_000);
    await replica.lapse(run.runId);
    const lease = await stores.leases.acquire(sessionLeaseKey(SESSION), "adopter", 60_000);
    assert.ok(lease);
    const answered = replica.agent("k-raced");
    // The retry waits for the session, its input queued; then the adopter runs the dead replica's copy.
    while (!(await stores.turnQueue!.list(SESSION)).length) await new Promise((r) => setTimeout(r, 10));
    await stores.leases.release(sessionLeaseKey(SESSION), lease);
    const adopter = await replica.elsewhere("k-raced", "adopter");
    await adopter.end("adopted reply");
    const { final } = await answered;
    assert.deepEqual((final.result as { payloads: unknown[] }).payloads, [{ text: "adopted reply" }]);
    assert.deepEqual(await replica.history(), [...BEFORE, "across", "adopted reply"]);
    assert.deepEqual(await stores.turnQueue!.list(SESSION), []);
  },
});
