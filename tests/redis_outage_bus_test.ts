// Redis outage handling of the event bus and of closing the stores (review 6, defects 1, 4 and 5).
import assert from "node:assert/strict";
import type { BusEvent } from "../lib/bus/types.ts";
import { FELL_BACK_LIMIT, RedisEventBus } from "../lib/state/redis/bus.ts";
import type { RedisClient } from "../lib/state/redis/connection.ts";
import { handDriven } from "./_bus_wire.ts";
import { redisTest } from "./_redis_server.ts";

Deno.test("events keep their order when Redis goes away between one heard and the next published", async () => {
  const wire = handDriven();
  const bus = await RedisEventBus.open(wire.publisher, wire.subscriber, "t:bus", () => {});
  const seen: string[] = [];
  bus.subscribe((event) => seen.push(event.event));
  const first: BusEvent = { event: "first", payload: {}, sessionKey: "s" } as BusEvent;
  bus.publish(first);
  // Redis relays the first publish back, then the connection drops: the second publish fails.
  wire.publishes[0].resolve();
  wire.hear(JSON.stringify({ origin: "other", event: first }));
  bus.publish({ event: "second", payload: {}, sessionKey: "s" } as BusEvent);
  wire.publishes[1].reject(Object.assign(new Error("offline"), { code: "ECONNRESET" }));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen, ["first", "second"]);
  await bus.close();
});

redisTest(
  "an event published while Redis answers nothing reaches this replica's listeners after the bound, once",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "rv6bus:" });
    const seen: string[] = [];
    stores.bus.subscribe((event) => seen.push(event.event));
    const admin = await redis.client();
    // The server holds every command without closing a connection, as a frozen host or a partition does.
    await admin.sendCommand(["CLIENT", "PAUSE", "4500", "ALL"]);
    stores.bus.publish({ event: "chat", payload: { state: "error" }, sessionKey: "s" } as BusEvent);
    await new Promise((r) => setTimeout(r, 3_600));
    // Every store command has failed as UNAVAILABLE by now; the run's error event has reached no one.
    assert.deepEqual(seen, ["chat"], "not delivered within the reply bound");
    await new Promise((r) => setTimeout(r, 1_800));
    assert.deepEqual(seen, ["chat"], "delivered again once the server woke");
  },
);

redisTest("closing the stores while Redis answers nothing ends within the reply bound", async (redis) => {
  const stores = await redis.stores({ keyPrefix: "rv6close:" });
  const admin = await redis.client();
  await admin.sendCommand(["CLIENT", "PAUSE", "9000", "ALL"]);
  // A command waits for its reply (its caller is failed at the bound); then the gateway stops.
  stores.sessions.get("main").catch(() => {});
  await new Promise((r) => setTimeout(r, 100));
  const started = performance.now();
  await stores.close();
  const took = performance.now() - started;
  assert.ok(took < 4_500, `close waited ${Math.round(took)} ms for replies a frozen server never sends`);
});

Deno.test("a long outage keeps the numbers of at most FELL_BACK_LIMIT failed publishes, the newest", async () => {
  const sent: string[] = [];
  const publisher = {
    publish: (_: string, message: string) => {
      sent.push(message);
      return Promise.reject(Object.assign(new Error("offline"), { code: "ECONNRESET" }));
    },
  };
  const wire = handDriven();
  const bus = await RedisEventBus.open(
    publisher as unknown as RedisClient,
    wire.subscriber,
    "t:bus",
    () => {},
  );
  const seen: number[] = [];
  bus.subscribe((event) => seen.push((event.payload as { n: number }).n));
  for (let n = 0; n <= FELL_BACK_LIMIT; n++) {
    bus.publish({ event: "e", payload: { n }, sessionKey: "s" } as BusEvent);
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(seen.length, FELL_BACK_LIMIT + 1, "every failed publish is delivered here once");
  // Redis wakes and runs two late publishes: the oldest one was forgotten, the newest one is remembered.
  wire.hear(sent[0]);
  wire.hear(sent[FELL_BACK_LIMIT]);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen.slice(FELL_BACK_LIMIT + 1), [0], "only the forgotten one is delivered again");
  await bus.close();
});
