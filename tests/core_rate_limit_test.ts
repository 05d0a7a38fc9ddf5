import assert from "node:assert/strict";
import { AuthRateLimiter, DEFAULT_RATE_LIMIT } from "../lib/auth/rate-limit.ts";

Deno.test("a failure from many addresses does not grow the limiter forever", () => {
  let clock = 0;
  const limiter = new AuthRateLimiter(DEFAULT_RATE_LIMIT, () => clock);
  for (let i = 0; i < 10_001; i++) limiter.fail(`ip:198.51.${i >> 8}.${i & 255}:token`);
  assert.equal(limiter.tracked, 10_001, "failures inside the window are all kept");
  clock += DEFAULT_RATE_LIMIT.windowMs;
  limiter.fail("ip:203.0.113.1:token");
  assert.equal(limiter.tracked, 1, "expired windows are swept once the map is large");
});

Deno.test("lockout after maxAttempts, lifted after lockoutMs, success forgets failures", () => {
  let clock = 0;
  const limiter = new AuthRateLimiter({ maxAttempts: 3, windowMs: 1000, lockoutMs: 5000 }, () => clock);
  assert.equal(limiter.fail("k"), 0);
  limiter.succeed("k");
  assert.equal(limiter.fail("k"), 0);
  assert.equal(limiter.fail("k"), 0);
  assert.equal(limiter.fail("k"), 5000);
  assert.equal(limiter.retryAfter("k"), 5000);
  clock += 5000;
  assert.equal(limiter.retryAfter("k"), 0);
});
