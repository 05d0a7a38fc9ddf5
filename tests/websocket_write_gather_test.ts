// The hardened engine's socket writer lets a few microtask turns pass after each write before it gathers
// the next chunk, so answers that handlers queue right after the reads of the same event-loop turn go out
// in one write instead of one write each (bench/core_gateway.ts's pipelined `health` lost ~20 % without it).
import assert from "node:assert/strict";
import { ReadBuffer } from "../lib/transports/deno/read-buffer.ts";
import { EngineWebSocket } from "../lib/transports/deno/websocket-socket.ts";

Deno.test("hardened engine: frames queued while a write settles go out together in the next write", async () => {
  const writes: number[] = [];
  let first = true;
  const conn = {
    read: () => new Promise<number | null>(() => {}),
    write(bytes: Uint8Array): Promise<number> {
      writes.push(bytes.length);
      if (first) {
        first = false;
        // Two handlers whose reads finished with this write resume a microtask apart and answer.
        Promise.resolve().then(() => socket.send("b")).then(() => socket.send("c"));
      }
      return Promise.resolve(bytes.length);
    },
    closeWrite: () => Promise.resolve(),
    close: () => {},
  } as unknown as Deno.Conn;
  // The conn's write reaches `socket` only once it exists (the first send below).
  const socket = new EngineWebSocket(conn, new ReadBuffer(conn, () => {}), 1_000);
  socket.send("a");
  await new Promise((resolve) => setTimeout(resolve, 20));
  // "a" alone (3 bytes: 2 of header), then "b" and "c" in one write.
  assert.deepEqual(writes, [3, 6]);
});
