// The reply bound of the Redis stores (lib/state/redis/unavailable.ts) against a stalled event loop, and
// the commands it fails that still land once the server wakes (review 6, items 2 and 3).
import assert from "node:assert/strict";
import { guardedClient } from "../lib/state/redis/unavailable.ts";
import { redisTest } from "./_redis_server.ts";

/** Blocks the event loop for `ms`, as a long synchronous task (or a starved CPU) does. */
function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

redisTest(
  "a reply that arrived while the event loop was busy is not failed as a Redis outage",
  async (redis) => {
    const client = guardedClient(await redis.client(), 50);
    const reply = client.ping();
    reply.catch(() => {});
    // node-redis writes the command in an immediate; let it go out (the server answers within a millisecond).
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    // This replica is then busy for longer than the bound: the reply waits in the socket, read after timers run.
    stall(200);
    assert.equal(await reply, "PONG");
  },
);

redisTest(
  "a command sent just before the event loop stalls past the bound is not failed as a Redis outage",
  async (redis) => {
    const client = guardedClient(await redis.client(), 50);
    const reply = client.ping();
    reply.catch(() => {});
    // The task that sent it runs on: the command is not even written until the loop comes back.
    stall(200);
    assert.equal(await reply, "PONG");
  },
);

Deno.test("a command with no reply still fails when the loop was stalled past the bound, one bound later", async () => {
  const client = guardedClient({ sendCommand: (_: string[]) => new Promise<string>(() => {}) }, 40);
  const hung = client.sendCommand(["HANG"]);
  hung.catch(() => {});
  stall(100);
  const started = performance.now();
  await assert.rejects(hung, /no reply within 40 ms/);
  const waited = performance.now() - started;
  assert.ok(waited >= 30, `failed ${Math.round(waited)} ms after a stall the loop could not read through`);
});

redisTest(
  "a retry of a call whose claim was failed by the reply bound is not held up by that claim",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "rv6idem:" });
    // Scripts' SHAs are cached per process: another test's server may have loaded them, not this one.
    await stores.idempotency.run("warm", "w", "fp", () => Promise.resolve("warm"));
    const admin = await redis.client();
    // Writes (scripts included) wait 3.6 s: past the reply bound, then the server runs them.
    await admin.sendCommand(["CLIENT", "PAUSE", "3600", "WRITE"]);
    await assert.rejects(
      stores.idempotency.run("chat.send", "k1", "fp", () => Promise.resolve("first")),
      (error: unknown) => (error as { code?: string }).code === "UNAVAILABLE",
    );
    // The caller was told to retry after about a second; by then the server has run the claim it was sent.
    await new Promise((r) => setTimeout(r, 1_200));
    const started = performance.now();
    const retry = stores.idempotency.run("chat.send", "k1", "fp", () => Promise.resolve("retried"));
    const outcome = await Promise.race([
      retry,
      new Promise((r) => setTimeout(() => r("still waiting"), 3_000)),
    ]);
    assert.equal(
      outcome,
      "retried",
      `the retry waited ${Math.round(performance.now() - started)} ms for a claim no one holds`,
    );
    await retry;
  },
);

redisTest(
  "a lease whose acquire was failed by the reply bound is free once the server wakes",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "rv6lease:" });
    // Load this server's scripts first (their SHAs are cached per process).
    await stores.leases.release("warm", await stores.leases.acquire("warm", "w", 1_000) ?? "");
    const admin = await redis.client();
    await admin.sendCommand(["CLIENT", "PAUSE", "3600", "WRITE"]);
    await assert.rejects(
      stores.leases.acquire("session:main", "replica-a/1", 60_000),
      (error: unknown) => (error as { code?: string }).code === "UNAVAILABLE",
    );
    await new Promise((r) => setTimeout(r, 1_200));
    // The acquire did run once the server woke; the attempt told it failed holds nothing after it.
    const token = await stores.leases.acquire("session:main", "replica-a/2", 60_000);
    assert.ok(token, "the session stays locked by an acquire its caller was told failed");
  },
);

redisTest(
  "lines whose append was failed by the reply bound are not in the transcript once the server wakes",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "rv6lines:" });
    const ref = { agentId: "main", sessionId: "s1" };
    const line = (id: string, role: "user" | "assistant", runId: string) => ({
      id,
      ts: 1,
      role,
      content: id,
      runId,
    });
    // An earlier attempt of run r1 saved its input; this server loads its scripts on the way.
    await stores.transcripts.append(ref, [line("in", "user", "r1")], { inputOf: "r1" });
    const admin = await redis.client();
    await admin.sendCommand(["CLIENT", "PAUSE", "3600", "WRITE"]);
    const unavailable = (error: unknown) => (error as { code?: string }).code === "UNAVAILABLE";
    // The retry's input (already saved) and the model's reply: both told they failed, both run later.
    await Promise.all([
      assert.rejects(
        stores.transcripts.append(ref, [line("in", "user", "r1")], { inputOf: "r1" }),
        unavailable,
      ),
      assert.rejects(
        stores.transcripts.append(ref, [line("a1", "assistant", "r1"), line("a2", "assistant", "r1")]),
        unavailable,
      ),
    ]);
    await new Promise((r) => setTimeout(r, 1_200));
    // The reply the caller was told failed is gone; the input an earlier attempt saved stays.
    assert.deepEqual((await stores.transcripts.read(ref)).map((l) => [l.seq, l.id]), [[1, "in"]]);
    const next = await stores.transcripts.append(ref, [line("a3", "assistant", "r1")]);
    assert.deepEqual(next.map((l) => l.seq), [2]);
  },
);
