// A socket's events wait for the answer of a call of it that starts a run (lib/ws/answer-first.ts): the
// reference answers `chat.send` before the run makes a sound. (`agent` acks before its outcome is written.)
// tests/review11_final_before_answer_test.ts shows it through a gateway on Redis; this pins the rule.
import assert from "node:assert/strict";
import { AnswerFirst } from "../lib/ws/answer-first.ts";

/** Offers `event` as the socket does: held while events wait; false when it may go. */
function offer(held: AnswerFirst<string>, event: string): boolean {
  if (!held.holding) return false;
  held.hold(event);
  return true;
}

Deno.test("answer first: events wait while a run-starting call is unanswered, then go in order", () => {
  assert.equal(AnswerFirst.startsRun("chat.send", { sessionKey: "main", idempotencyKey: "r1" }), true);
  assert.equal(AnswerFirst.startsRun("agent", { idempotencyKey: "r2" }), false, "acks before its write");
  assert.equal(AnswerFirst.startsRun("health", { idempotencyKey: "r3" }), false, "starts no run");
  assert.equal(AnswerFirst.startsRun("chat.send", {}), false, "no key: the call fails at once");
  const held = new AnswerFirst<string>();
  assert.equal(offer(held, "before any call"), false);
  held.expect("req-1");
  held.expect("req-2");
  for (const event of ["delta", "session.message", "final"]) assert.equal(offer(held, event), true);
  assert.deepEqual(held.answered("req-1"), [], "another call is still unanswered");
  assert.equal(offer(held, "presence"), true);
  assert.deepEqual(held.answered("req-2"), ["delta", "session.message", "final", "presence"]);
  assert.equal(offer(held, "after"), false, "every call answered: nothing waits");
  assert.deepEqual(held.answered("req-2"), [], "a second answer (an agent call's final) has nothing left");
});

Deno.test("answer first: an answer slow in coming holds events only until the wait runs out", () => {
  const held = new AnswerFirst<string>();
  held.expect("req-1");
  assert.equal(offer(held, "delta"), true);
  assert.deepEqual(held.expire(), ["delta"]);
  assert.equal(offer(held, "final"), false, "after the wait, events go as they come");
  assert.deepEqual(held.answered("req-1"), []);
  held.expect("req-2");
  assert.equal(offer(held, "next run"), true, "a later call waits again");
});
