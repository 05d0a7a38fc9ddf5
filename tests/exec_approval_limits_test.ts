// One client cannot pile up exec approval requests that wait: past the per-address cap a new one is
// refused with a retryable error, and a request that ends frees its slot.
import assert from "node:assert/strict";
import { MAX_PENDING_APPROVALS_PER_ADDRESS } from "../lib/state/exec-approvals.ts";
import { client, connectParams, startGateway } from "./_helpers.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";

Deno.test("a client's waiting exec approval requests are capped per address", async () => {
  const gateway = await startGateway();
  const requester = await client(gateway, connectParams({ scopes: ["operator.approvals"] }));
  const ask = (id: string) =>
    requester.request("exec.approval.request", {
      id,
      command: "echo hi",
      requireDeliveryRoute: false,
      twoPhase: true,
    });
  // Two-phase: each is accepted at once and then waits for an answer nobody gives.
  for (let i = 0; i < MAX_PENDING_APPROVALS_PER_ADDRESS; i++) {
    assert.equal((await ask(`a${i}`)).ok, true);
  }
  const refused = await ask("over");
  assert.equal(refused.ok, false);
  assertMatchesSchema("ErrorShape", refused.error);
  const error = refused.error as { code: string; retryable: boolean; details: Record<string, unknown> };
  assert.deepEqual([error.code, error.retryable, error.details.code], [
    "UNAVAILABLE",
    true,
    "APPROVAL_REQUESTS_LIMITED",
  ]);
  const admin = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
  assert.equal((await admin.request("exec.approval.resolve", { id: "a0", decision: "deny" })).ok, true);
  assert.equal((await ask("after")).ok, true, "an answered request frees its slot");
  // Its waiting calls end with its socket, so stopping waits for none of them.
  requester.socket.close();
  await gateway.stop();
});
