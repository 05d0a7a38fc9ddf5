// The hardened engine caps the socket writes in flight per process (lib/transports/deno/write-slots.ts): a
// broadcast to thousands of sockets starts a few hundred `conn.write` ops at a time instead of all of them
// in one turn, and a peer that stops reading holds its slot only briefly while others wait.
import assert from "node:assert/strict";
import { ReadBuffer } from "../lib/transports/deno/read-buffer.ts";
import { EngineWebSocket, MAX_WRITES_IN_FLIGHT } from "../lib/transports/deno/websocket-socket.ts";
import { type WriteSlot, WriteSlots } from "../lib/transports/deno/write-slots.ts";
import { preparedEventFrame } from "../lib/protocol/frames.ts";

const turns = (n: number) => new Promise((r) => setTimeout(r, n));

Deno.test("write slots: past the limit writers wait, and get slots back oldest first", async () => {
  const slots = new WriteSlots(2, 60_000);
  const a = slots.take() as WriteSlot;
  const b = slots.take() as WriteSlot;
  assert.ok(!(a instanceof Promise) && !(b instanceof Promise));
  const order: string[] = [];
  const c = (slots.take() as Promise<WriteSlot>).then((slot) => (order.push("c"), slot));
  const d = (slots.take() as Promise<WriteSlot>).then((slot) => (order.push("d"), slot));
  assert.equal(slots.waiting, 2);
  slots.give(b);
  const slotC = await c;
  assert.deepEqual(order, ["c"]);
  slots.give(a);
  slots.give(slotC);
  slots.give(await d);
  assert.deepEqual(order, ["c", "d"]);
  assert.equal(slots.waiting, 0);
  // All four given back: two free again, taken at once.
  assert.ok(!(slots.take() instanceof Promise));
  assert.ok(!(slots.take() instanceof Promise));
});

Deno.test("write slots: a write that never ends forfeits its slot to a waiting writer", async () => {
  let now = 0;
  const slots = new WriteSlots(1, 10, () => now);
  const stalled = slots.take() as WriteSlot;
  const next = slots.take() as Promise<WriteSlot>;
  now = 11;
  const slot = await next;
  assert.equal(stalled.held, false);
  // The stalled write ending later gives nothing back twice.
  slots.give(stalled);
  slots.give(slot);
  const free = slots.take() as WriteSlot;
  assert.ok(!(free instanceof Promise));
  const waiting = slots.take();
  assert.ok(waiting instanceof Promise);
  now = 30;
  slots.give(await waiting);
});

/** Sockets over connections whose writes are recorded and settle only when `settle()` is called. */
function heldWrites(count: number) {
  let started = 0;
  const pending: (() => void)[] = [];
  const conns = Array.from({ length: count }, () =>
    ({
      read: () => new Promise<number | null>(() => {}),
      write(bytes: Uint8Array): Promise<number> {
        started++;
        return new Promise((resolve) => pending.push(() => resolve(bytes.length)));
      },
      closeWrite: () => Promise.resolve(),
      close: () => {},
    }) as unknown as Deno.Conn);
  const sockets = conns.map((conn) => new EngineWebSocket(conn, new ReadBuffer(conn, () => {}), 1_000));
  return {
    sockets,
    started: () => started,
    /** Settles every write started so far and lets the writers move on. */
    async settle() {
      for (const resolve of pending.splice(0)) resolve();
      await turns(0);
    },
  };
}

Deno.test("hardened engine: a broadcast to more sockets than the cap starts the cap's worth of writes at once", async () => {
  const count = MAX_WRITES_IN_FLIGHT * 2 + 10;
  const { sockets, started, settle } = heldWrites(count);
  const frame = preparedEventFrame("presence", { presence: [] });
  sockets.forEach((socket, i) => socket.sendPrepared(frame, i + 1));
  assert.equal(started(), MAX_WRITES_IN_FLIGHT);
  await settle();
  assert.equal(started(), MAX_WRITES_IN_FLIGHT * 2);
  await settle();
  assert.equal(started(), count);
  await settle();
  // Every socket's frame was written, and nothing more.
  assert.equal(started(), count);
  assert.equal(sockets.every((socket) => socket.bufferedAmount() === 0), true);
});
