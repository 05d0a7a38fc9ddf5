// A Redis that stops answering without closing the connection must not hold a caller forever: the
// guarded client fails a command as a retryable UNAVAILABLE once it has waited the reply bound, and keeps
// no timer once nothing waits (this file runs with Deno's op sanitizer on).
import assert from "node:assert/strict";
import { GatewayError } from "../lib/errors.ts";
import { guardedClient } from "../lib/state/redis/unavailable.ts";

/** A client whose `HANG` never gets a reply and whose other commands answer at once. */
const fakeClient = () => ({
  sendCommand: (args: string[]) =>
    args[0] === "HANG" ? new Promise<string>(() => {}) : Promise.resolve("PONG"),
});

Deno.test("a command with no reply fails as a retryable UNAVAILABLE naming Redis once the bound passes", async () => {
  const client = guardedClient(fakeClient(), 50);
  const hung = client.sendCommand(["HANG"]);
  // A command answered meanwhile is not held up by the one that waits.
  assert.equal(await client.sendCommand(["PING"]), "PONG");
  await assert.rejects(hung, (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, "UNAVAILABLE");
    assert.equal(error.retryable, true);
    assert.equal(error.details?.code, "REDIS_UNAVAILABLE");
    assert.match(
      error.message,
      /^Redis \(the gateway's shared state\) is unreachable: no reply within 50 ms/,
    );
    return true;
  });
});

Deno.test("a command sent after the oldest is failed in a later pass, by a timer armed again", async () => {
  const client = guardedClient(fakeClient(), 40);
  const first = client.sendCommand(["HANG"]);
  await new Promise((r) => setTimeout(r, 25));
  const second = client.sendCommand(["HANG"]);
  const outcomes = await Promise.allSettled([first, second]);
  assert.deepEqual(outcomes.map((o) => o.status), ["rejected", "rejected"]);
});
