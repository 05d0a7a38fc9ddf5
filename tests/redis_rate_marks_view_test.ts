// A replica's local view of rate-limit marks (lib/state/redis/rate-limit.ts) against an attacker with many
// addresses: it never holds more than MAX_MARKS keys, and once past them it answers nothing locally (every
// peek asks Redis) instead of scanning them on every peek; a refused hit marks the key locally.
import assert from "node:assert/strict";
import type { ChangeFeed } from "../lib/state/redis/feed.ts";
import { MarkView, MAX_MARKS, RedisRateLimitStore } from "../lib/state/redis/rate-limit.ts";
import { RedisConnection } from "../lib/state/redis/connection.ts";
import { redisTest } from "./_redis_server.ts";

/** A feed that stays up and delivers nothing by itself. */
const upFeed = { link: () => 1, listen: () => {} } as unknown as ChangeFeed;

Deno.test("the marks view drops itself past MAX_MARKS instead of growing, and answers from Redis for a while", async () => {
  const clock = { now: 1_000_000 };
  const view = new MarkView(upFeed, () => clock.now, () => Promise.resolve([0]));
  await view.reload();
  assert.equal(view.clean("ip:clean"), true, "trusted once loaded");
  for (let i = 0; i < MAX_MARKS + 500; i++) view.apply(`ip:fe80::${i.toString(16)}`, i + 1, 300_000);
  assert.ok(view.size <= MAX_MARKS, `the view holds ${view.size} marks`);
  assert.equal(view.clean("ip:clean"), false, "past the bound nothing is answered locally");
  clock.now += 61_000;
  assert.equal(view.clean("ip:clean"), false, "after the pause the view is read again first");
  await view.reload();
  assert.equal(view.clean("ip:clean"), true);
});

redisTest(
  "a refused hit marks the key on the replica that made it, whatever its feed delivers",
  async (redis) => {
    const a = await redis.stores({ keyPrefix: "rv:" });
    // Replica B's store, on a feed that stays "up" but delivers nothing (a silently dropped subscriber).
    const client = await redis.client();
    const connection = new RedisConnection(client, "rv:");
    await connection.load(RedisRateLimitStore.scripts);
    const deaf = { link: () => 1, listen: () => {}, channel: "rv:changes" } as unknown as ChangeFeed;
    const b = new RedisRateLimitStore(connection, deaf);
    await b.start();
    const policy = { max: 1, windowMs: 60_000, lockoutMs: 300_000 };
    assert.equal((await b.peek("ip:10.0.0.66", policy)).retryAfterMs, 0, "clean at first");
    assert.ok((await a.rateLimits.hit("ip:10.0.0.66", policy)).retryAfterMs > 0, "locked out through A");
    assert.equal((await b.hit("ip:10.0.0.66", policy)).allowed, false, "B's own attempt is refused");
    assert.ok((await b.peek("ip:10.0.0.66", policy)).retryAfterMs > 0, "B answers it locked from then on");
  },
);
