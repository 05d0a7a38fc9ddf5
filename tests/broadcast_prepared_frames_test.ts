// The hardened Deno engine builds a broadcast's frame for each socket from the event's parts, encoded once
// per event: the bytes must be exactly those of the frame's text sent on its own, straight away or queued
// behind a write, for any seq and any size.
import assert from "node:assert/strict";
import { preparedEventFrame } from "../lib/protocol/frames.ts";
import { ReadBuffer } from "../lib/transports/deno/read-buffer.ts";
import { EngineWebSocket } from "../lib/transports/deno/websocket-socket.ts";
import { recordingConn, textFrame } from "./_engine_conn.ts";

Deno.test("hardened engine: a prepared frame's bytes equal its text's frame for every seq, sent at once or queued", async () => {
  const frames = [
    preparedEventFrame("presence", { presence: [] }, { presence: 3, health: 9 }),
    preparedEventFrame("chat", { text: "🦀 — é".repeat(40) }),
    // Past the small-frame size: sent as text instead.
    preparedEventFrame("chat", { text: "z".repeat(20_000) }),
  ];
  const seqs = [1, 9, 10, 125, 99_999, 2 ** 40, Number.MAX_SAFE_INTEGER];
  for (const stall of [false, true]) {
    const { conn, written, release } = recordingConn(stall);
    const socket = new EngineWebSocket(conn, new ReadBuffer(conn, () => {}), 1_000);
    const expected: number[] = [];
    // Enough frames in a row to roll over shared slabs, with a plain frame between events.
    for (let round = 0; round < 200; round++) {
      for (const frame of frames) {
        for (const seq of seqs) {
          socket.sendPrepared(frame, seq + round);
          expected.push(...textFrame(frame(seq + round)));
        }
      }
      socket.send(`{"round":${round}}`);
      expected.push(...textFrame(`{"round":${round}}`));
    }
    release();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual([...written.flatMap((w) => [...w])], expected, `stalled: ${stall}`);
    assert.equal(socket.bufferedAmount(), 0);
  }
});
