// The strings and scope lists sockets share (lib/ws/intern.ts): one-off values (instance ids, addresses a
// peer rotates through) must not fill the tables for good, or later sockets would keep copies of their own.
import assert from "node:assert/strict";
import { internedScopes } from "../lib/ws/intern.ts";

Deno.test("a scope list is still shared after more one-off lists than the table holds", () => {
  for (let i = 0; i < 10_000; i++) internedScopes([`one-off-${i}`]);
  const first = internedScopes(["operator.read", "operator.write"]);
  assert.equal(internedScopes(["operator.read", "operator.write"]), first, "one frozen list for both");
  assert.ok(Object.isFrozen(first));
});
