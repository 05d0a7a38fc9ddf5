// Review 11: a round of readings of the server's clock keeps the best of its own readings, but its first
// reading replaces the estimate whatever it was: a round read while answers are slow (the one a refused
// guarded publish starts, `doubtClock`, during the very slowness that made it late) throws a fresh estimate
// from a fast reading away for one that errs low by the slow round trip, and guarded publishes stay
// refused (the deadline is set that much early) until the next round, a second later at the soonest.
import assert from "node:assert/strict";
import { CLOCK_ROUND_TRIP_LIMIT_MS, ServerClock } from "../lib/state/redis/server-clock.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A `TIME` answer for a server whose clock is this process's `performance.now()` plus `offset`. */
function timeAnswer(offset: number): [string, string] {
  const ms = performance.now() + offset;
  return [String(Math.floor(ms / 1000)), String(Math.floor((ms % 1000) * 1000))];
}

Deno.test("review11: a slow round of readings does not replace a better estimate of the server's clock", async () => {
  const SLOW_MS = 4 * CLOCK_ROUND_TRIP_LIMIT_MS;
  let delay = 0;
  const clock = new ServerClock(async () => {
    // The server reads its clock at once; the answer is slow on its way back.
    const answer = timeAnswer(5_000);
    await sleep(delay);
    return answer;
  }, () => true);
  await clock.learn();
  const before = clock.now()! - performance.now();
  assert.ok(before > 5_000 - 50, `a fast reading errs little: ${before}`);
  delay = SLOW_MS;
  await clock.learn();
  const after = clock.now()! - performance.now();
  assert.ok(
    after > 5_000 - 50 - CLOCK_ROUND_TRIP_LIMIT_MS,
    `the estimate fell from ${before} to ${after} on a round whose answers took ${SLOW_MS} ms`,
  );
});
