// A handshake timeout past the timer range (an operator's OPENCLAW_HANDSHAKE_TIMEOUT_MS) must not make the
// shared deadline timer fire and re-arm every millisecond while a handshake is pending.
import assert from "node:assert/strict";
import { HandshakeDeadlines } from "../lib/ws/handshake-deadlines.ts";

Deno.test("the shared handshake timer does not spin when the timeout exceeds the timer range", async () => {
  const real = globalThis.setTimeout;
  let armed = 0;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => (armed++, real(fn, ms))) as typeof setTimeout;
  const deadlines = new HandshakeDeadlines(3_000_000_000);
  let expired = false;
  try {
    deadlines.add({ handshakeExpired: () => (expired = true) });
    await new Promise((resolve) => real(resolve, 100));
  } finally {
    globalThis.setTimeout = real;
    deadlines.settled();
  }
  assert.equal(expired, false);
  assert.ok(armed <= 2, `timer armed ${armed} times in 100 ms`);
});
