import assert from "node:assert/strict";
import { DEFAULT_RATE_LIMIT } from "../lib/auth/rate-limit.ts";
import { MemoryRateLimitStore } from "../lib/state/rate-limit.ts";

Deno.test("a failure from many addresses does not grow the limiter forever", async () => {
  let clock = 0;
  const limiter = new MemoryRateLimitStore(() => clock);
  for (let i = 0; i < 10_001; i++) {
    await limiter.hit(`ip:198.51.${i >> 8}.${i & 255}:token`, DEFAULT_RATE_LIMIT);
  }
  assert.equal(limiter.size, 10_001, "failures inside the window are all kept");
  clock += DEFAULT_RATE_LIMIT.windowMs;
  await limiter.hit("ip:203.0.113.1:token", DEFAULT_RATE_LIMIT);
  assert.equal(limiter.size, 1, "expired windows are swept once the map is large");
});

Deno.test("lockout after maxAttempts, lifted after lockoutMs, success forgets failures", async () => {
  let clock = 0;
  const limiter = new MemoryRateLimitStore(() => clock);
  const policy = { max: 3, windowMs: 1000, lockoutMs: 5000 };
  assert.equal((await limiter.hit("k", policy)).retryAfterMs, 0);
  await limiter.reset("k");
  assert.equal((await limiter.hit("k", policy)).retryAfterMs, 0);
  assert.equal((await limiter.hit("k", policy)).retryAfterMs, 0);
  assert.equal((await limiter.hit("k", policy)).retryAfterMs, 5000);
  assert.equal((await limiter.peek("k", policy)).retryAfterMs, 5000);
  clock += 5000;
  assert.equal((await limiter.peek("k", policy)).retryAfterMs, 0);
});
