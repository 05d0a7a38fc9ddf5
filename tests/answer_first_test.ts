// A run's events wait, on the socket that started it, for that call's answer (lib/ws/answer-first.ts): the
// reference answers `chat.send` and acks `agent` before the run makes a sound. tests/review11_final_before_
// answer_test.ts shows it through a gateway on Redis; these pin the rule itself.
import assert from "node:assert/strict";
import { AnswerFirst } from "../lib/ws/answer-first.ts";

Deno.test("answer first: a run's events wait for its call's answer, then go in order; others pass", () => {
  const runId = AnswerFirst.runIdOf("chat.send", { sessionKey: "main", message: "hi", idempotencyKey: "r1" });
  assert.equal(runId, "r1");
  assert.equal(AnswerFirst.runIdOf("agent", { idempotencyKey: "r2" }), "r2");
  assert.equal(AnswerFirst.runIdOf("health", { idempotencyKey: "r3" }), undefined, "not a run's start");
  assert.equal(AnswerFirst.runIdOf("chat.send", {}), undefined, "no key, nothing to wait for");
  const held = new AnswerFirst<string>();
  assert.equal(held.hold("chat", { runId: "r1" }, "before the call"), false, "no call yet");
  held.expect("r1");
  assert.equal(held.hold("chat", { runId: "r1", state: "delta" }, "delta"), true);
  assert.equal(held.hold("agent", { runId: "r1" }, "agent"), true);
  assert.equal(held.hold("chat", { runId: "r9" }, "another run"), false);
  assert.equal(held.hold("sessions.changed", { runId: "r1" }, "not a run's event"), false);
  assert.equal(held.hold("chat", { runId: "r1", state: "final" }, "final"), true);
  assert.deepEqual(held.answered("r1"), ["delta", "agent", "final"]);
  assert.equal(held.hold("chat", { runId: "r1" }, "after"), false, "answered: nothing waits");
  assert.deepEqual(held.answered("r1"), [], "a second answer (a retry on the socket) has nothing left");
});
