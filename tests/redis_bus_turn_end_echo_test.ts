// The echo of a turn's end on the Redis bus (a guarded publish answered yes) is handed to this replica's
// listeners on the answer, or as soon as it is read after it, not after the two immediates that let a tick's
// commands go first: the turn's sender waits for it. Never ahead of what Redis ran before it: only heard
// messages are handed on, in the order heard; and an echo lost to a reconnection ends that (review 11). And an event delivered here because its publish failed is the event as published
// (review 10, finding 6).
import assert from "node:assert/strict";
import type { BusEvent } from "../lib/bus/types.ts";
import { handDriven } from "./_bus_wire.ts";

const settle = () => new Promise((r) => setTimeout(r, 20));
const chat = (n: number): BusEvent => ({ event: "chat", payload: { n }, sessionKey: "s" });
const held = { lease: "session:s", owner: "owner-a/1" };

/** The message another replica's publish of `event` brings. */
const fromElsewhere = (event: BusEvent) => JSON.stringify({ origin: "elsewhere", seq: 1, event });

Deno.test("the echo of a turn's end answered yes goes to the listeners as it is read, behind what came before", async () => {
  const wire = handDriven();
  const bus = await wire.open();
  const seen: number[] = [];
  bus.subscribe((event) => seen.push((event.payload as { n: number }).n));
  const published = bus.publishIfHeld([chat(2), chat(3)], held);
  wire.scripts[0].resolve(1);
  assert.equal(await published, true);
  assert.deepEqual(seen, [], "nothing is handed on before it is heard");
  // Another replica's event that Redis ran first comes first, then the echo: both at once.
  wire.hear(fromElsewhere(chat(1)));
  assert.deepEqual(seen, [1]);
  // The script's arguments: deadline, owner, line seq and id, then each channel and message.
  const [, , , , , second, , third] = wire.scriptArgs[0];
  wire.hear(second);
  wire.hear(third);
  assert.deepEqual(seen, [1, 2, 3], "handed on as heard, without waiting for an immediate");
  // Once the awaited echo is in, heard messages wait for the immediates again.
  wire.hear(fromElsewhere(chat(4)));
  assert.deepEqual(seen, [1, 2, 3]);
  await settle();
  assert.deepEqual(seen, [1, 2, 3, 4]);
  await bus.close();
});

Deno.test("an echo heard before its guarded publish is answered goes on the answer", async () => {
  const wire = handDriven();
  const bus = await wire.open();
  const seen: number[] = [];
  bus.subscribe((event) => seen.push((event.payload as { n: number }).n));
  const published = bus.publishIfHeld([chat(2)], held);
  wire.hear(fromElsewhere(chat(1)));
  wire.hear(wire.scriptArgs[0][5]);
  wire.scripts[0].resolve(1);
  assert.equal(await published, true);
  assert.deepEqual(seen, [1, 2], "on the answer, in the order heard, not after the immediates");
  await bus.close();
});

Deno.test("an event whose publish failed reaches the listeners as it was published", async () => {
  const wire = handDriven();
  const bus = await wire.open(() => {});
  const seen: unknown[] = [];
  bus.subscribe((event) => seen.push(structuredClone(event.payload)));
  const event = chat(1);
  bus.publish(event);
  // The publisher reuses its object after the publish, as it may (the wire copy is made at publish).
  (event.payload as { n: number }).n = 99;
  wire.publishes[0].reject(Object.assign(new Error("offline"), { code: "ECONNRESET" }));
  await settle();
  assert.deepEqual(seen, [{ n: 1 }], "the listeners got the publisher's object as changed after the publish");
  await bus.close();
});

Deno.test("a turn end's echo lost to a reconnection does not leave heard messages going at once", async () => {
  const wire = handDriven();
  const bus = await wire.open();
  const seen: number[] = [];
  bus.subscribe((event) => seen.push((event.payload as { n: number }).n));
  const published = bus.publishIfHeld([chat(1)], held);
  wire.scripts[0].resolve(1);
  assert.equal(await published, true);
  // The subscriber's connection drops before the echo is read, and comes back: the echo is gone.
  wire.reconnected();
  await settle();
  wire.hear(fromElsewhere(chat(2)));
  assert.deepEqual(seen, [], "another replica's message waits for the immediates, as before the turn's end");
  await settle();
  assert.deepEqual(seen, [2]);
  await bus.close();
});
