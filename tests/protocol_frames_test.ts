// A prepared event frame (the payload stringified once for a broadcast) is byte for byte the frame each
// socket would have built itself: same keys, same order, same escapes.
import assert from "node:assert/strict";
import { eventFrame, preparedEventFrame } from "../lib/protocol/frames.ts";

/** The frame as built key by key (the encoding before frames were prepared). */
function built(event: string, payload: unknown, seq?: number, stateVersion?: Record<string, number>): string {
  const frame: Record<string, unknown> = { type: "event", event, payload };
  if (seq !== undefined) frame.seq = seq;
  if (stateVersion) frame.stateVersion = stateVersion;
  return JSON.stringify(frame);
}

Deno.test("prepared event frames equal frames built per socket", () => {
  const cases: [string, unknown, number | undefined, Record<string, number> | undefined][] = [
    ["health", { ok: true, agents: [{ id: "main" }] }, 7, { health: 3, presence: 2 }],
    ["tick", { ts: 1 }, 1, undefined],
    ["chat", { text: 'quote " backslash \\ newline \n emoji 🦀 — dash' }, 42, undefined],
    ["shutdown", undefined, 9, undefined],
    ["presence", [], undefined, { presence: 1 }],
    ["x", null, 0, undefined],
  ];
  for (const [event, payload, seq, stateVersion] of cases) {
    const prepared = preparedEventFrame(event, payload, stateVersion);
    assert.equal(prepared(seq), built(event, payload, seq, stateVersion), `${event}`);
    assert.equal(eventFrame(event, payload, seq, stateVersion), built(event, payload, seq, stateVersion));
    assert.deepEqual(JSON.parse(prepared(seq)), JSON.parse(built(event, payload, seq, stateVersion)));
  }
});
