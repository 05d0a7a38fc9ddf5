// A replica that still holds an old lease on a session (its release failed) must not let every refused
// attempt of the next turn append that turn's input: the guarded append names one attempt.
import assert from "node:assert/strict";
import { redisTest } from "./_redis_server.ts";
import { MAIN_KEY, recordingProvider, scriptedRuntime, userTurn } from "./_scripted_runtime.ts";

redisTest(
  "a turn waiting on its own replica's unreleased lease appends its input once, not once per attempt",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "guard:", onError: () => {} });
    // Redis drops the release of turn two and its retry before turn three's first attempt (a blip).
    let failReleases = 0;
    const release = stores.leases.release.bind(stores.leases);
    stores.leases.release = (key, token) =>
      failReleases-- > 0 ? Promise.reject(new Error("connection reset")) : release(key, token);
    const runtime = scriptedRuntime(stores, { lease: { ttlMs: 1_000, retryMs: 25 } });
    // The read-ahead goes with the first attempt only (and again once the lease is taken), not every retry.
    let reads = 0;
    const read = stores.transcripts.read.bind(stores.transcripts);
    stores.transcripts.read = (ref) => (reads++, read(ref));
    try {
      assert.equal((await runtime.startTurn(userTurn("one")).done).status, "ok");
      failReleases = 2;
      assert.equal((await runtime.startTurn(userTurn("two")).done).status, "ok");
      reads = 0;
      assert.equal((await runtime.startTurn(userTurn("three")).done).status, "ok");
      assert.equal(reads, 2, "the transcript is read with the first attempt and once the lease is held");
      const { sessionId } = (await stores.sessions.get(MAIN_KEY))!;
      const lines = await stores.transcripts.read({ agentId: "main", sessionId });
      assert.deepEqual(lines.map((l) => l.content), ["one", "ok", "two", "ok", "three", "ok"]);
    } finally {
      runtime.close();
    }
  },
);

redisTest(
  "a turn whose lease was taken over before its reply drops the reply, writes no finished run on the session's row and ends with the lease-lost error",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "guard2:", onError: () => {} });
    const tokens: string[] = [];
    const acquire = stores.leases.acquire.bind(stores.leases);
    stores.leases.acquire = async (key, owner, ttlMs) => {
      const token = await acquire(key, owner, ttlMs);
      if (token) tokens.push(token);
      return token;
    };
    const called = Promise.withResolvers<void>();
    const answer = Promise.withResolvers<void>();
    const { provider: slow } = recordingProvider(() => {
      called.resolve();
      return answer.promise;
    });
    const runtime = scriptedRuntime(stores, { provider: slow, lease: { ttlMs: 30_000 } });
    try {
      const run = runtime.startTurn(userTurn("one"));
      await called.promise;
      // Its lease lapsed unnoticed (a stalled event loop) and another replica took the session.
      const key = "session:" + MAIN_KEY;
      await stores.leases.release(key, tokens[0]);
      assert.ok(await acquire(key, "other-replica", 30_000));
      answer.resolve();
      const outcome = await run.done;
      assert.equal(outcome.status, "error");
      assert.equal(outcome.error?.code, "UNAVAILABLE");
      assert.equal(outcome.error?.retryable, true);
      const { sessionId } = (await stores.sessions.get(MAIN_KEY))!;
      const lines = await stores.transcripts.read({ agentId: "main", sessionId });
      assert.deepEqual(
        lines.map((l) => l.content),
        ["one"],
        "the reply is not written under another's lease",
      );
      // The row belongs to the replica that runs the session now (recordRunIfHeld).
      const row = (await stores.sessions.get(MAIN_KEY))!;
      assert.notEqual(row.lastRunId, outcome.runId, "the row must not record this turn as its last run");
      assert.notEqual(row.lastRunState, "done", "the row must not say the turn finished");
      assert.notEqual(
        row.lastMessagePreview,
        "ok",
        "the row must not preview a reply that was never written",
      );
    } finally {
      runtime.close();
    }
  },
);
