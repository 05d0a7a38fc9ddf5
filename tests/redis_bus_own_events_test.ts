// A replica's own events on the Redis bus reach its listeners from a copy it keeps, each in its place in
// the one order Redis gives every replica. A turn's guarded end publish (`publishIfHeld`) goes on its
// answer, not on the echo through pub/sub (the sender's final went out behind the echo's read and whatever
// work the replica did after the turn); an event for this replica alone (a socket's connection id) never
// goes to Redis. Only in order, though: what was heard before goes first, and an own publish sent earlier
// and not heard back yet keeps later own events behind it. Either way every event is heard once.
import assert from "node:assert/strict";
import { createClient } from "redis";
import type { BusEvent } from "../lib/bus/types.ts";
import { RedisEventBus } from "../lib/state/redis/bus.ts";
import { RedisConnection } from "../lib/state/redis/connection.ts";
import { RedisLeaseStore } from "../lib/state/redis/leases.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";

/** A bus whose subscriber's messages wait behind a gate the test opens. */
async function gatedBus(url: string) {
  const raw = createClient({ url });
  const subscriber = raw.duplicate();
  await Promise.all([raw.connect(), subscriber.connect()]);
  const connection = new RedisConnection(raw, "here:");
  await connection.load([...RedisLeaseStore.scripts, ...RedisEventBus.scripts]);
  await connection.learnClock();
  let gated = false;
  const held: (() => void)[] = [];
  const subscribe = subscriber.subscribe.bind(subscriber);
  // deno-lint-ignore no-explicit-any
  (subscriber as any).subscribe = (channels: string[], listener: (message: string) => void) =>
    subscribe(channels, (message: string) => gated ? held.push(() => listener(message)) : listener(message));
  const errors: unknown[] = [];
  const publishes: string[] = [];
  const publisher = new Proxy(connection.client, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== "publish") return typeof value === "function" ? value.bind(target) : value;
      return (channel: string, message: string) => {
        publishes.push(message);
        return value.call(target, channel, message);
      };
    },
  });
  const bus = await RedisEventBus.open(publisher, subscriber, "here:bus", (e) => errors.push(e), connection);
  const leases = new RedisLeaseStore(connection);
  assert.ok(await leases.acquire("session:here", "owner-a/1", 60_000));
  const heard: unknown[] = [];
  bus.subscribe((event) => heard.push(event.payload));
  return {
    bus,
    heard,
    errors,
    publishes,
    reconnected: () => subscriber.emit("ready"),
    gate: () => gated = true,
    open: () => {
      gated = false;
      for (const deliver of held.splice(0)) deliver();
    },
    close: async () => {
      await bus.close();
      await Promise.all([raw.close(), subscriber.close()]);
    },
  };
}

const held = { lease: "session:here", owner: "owner-a/1" };
const chat = (n: number): BusEvent => ({ event: "chat", payload: { n } });
/** An event for one socket of this replica. */
const mine = (n: number): BusEvent => ({ event: "agent", payload: { n }, connIds: ["c1"] });
const settle = () => new Promise((r) => setTimeout(r, 100));

if (REDIS_SERVER) {
  Deno.test("a guarded publish is heard here when it is answered, and its echo is dropped", async () => {
    const server = await startRedisServer();
    const t = await gatedBus(server.url);
    try {
      assert.equal(await t.bus.publishIfHeld!([chat(1), chat(2)], held), true);
      assert.deepEqual(t.heard, [{ n: 1 }, { n: 2 }], "heard by the time the publish resolves");
      // A refused one takes numbers that never come back; it does not keep the next from being heard here.
      assert.equal(await t.bus.publishIfHeld!([chat(3)], { ...held, owner: "owner-b/1" }), false);
      assert.equal(await t.bus.publishIfHeld!([chat(4)], held), true);
      assert.deepEqual(t.heard, [{ n: 1 }, { n: 2 }, { n: 4 }]);
      t.bus.publish(chat(5));
      await t.bus.flush();
      await settle();
      assert.deepEqual(t.heard, [{ n: 1 }, { n: 2 }, { n: 4 }, { n: 5 }], "each once");
      assert.deepEqual(t.errors, []);
    } finally {
      await t.close();
      await server.stop();
    }
  });

  Deno.test("a guarded publish waits for the echo of an own publish sent before it", async () => {
    const server = await startRedisServer();
    const t = await gatedBus(server.url);
    try {
      t.gate();
      t.bus.publish(chat(1));
      assert.equal(await t.bus.publishIfHeld!([chat(2)], held), true);
      assert.deepEqual(t.heard, [], "not ahead of the event published before it");
      t.open();
      await settle();
      assert.deepEqual(t.heard, [{ n: 1 }, { n: 2 }]);
      // Messages heard but not yet handed on go first.
      t.gate();
      t.bus.publish(chat(3));
      await t.bus.flush();
      t.open();
      assert.equal(await t.bus.publishIfHeld!([chat(4)], held), true);
      assert.deepEqual(t.heard, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
      await settle();
      assert.deepEqual(t.heard, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }], "each once");
      assert.deepEqual(t.errors, []);
    } finally {
      await t.close();
      await server.stop();
    }
  });

  Deno.test("an event for this replica alone never goes to Redis, and keeps its place behind own events", async () => {
    const server = await startRedisServer();
    const t = await gatedBus(server.url);
    try {
      t.bus.publish(mine(1));
      assert.deepEqual(t.heard, [{ n: 1 }], "at once when nothing waits");
      t.gate();
      t.bus.publish(chat(2));
      t.bus.publish(mine(3));
      t.bus.publish(chat(4));
      t.bus.publish(mine(5));
      await t.bus.flush();
      await settle();
      assert.deepEqual(t.heard, [{ n: 1 }], "behind the echo of the event published before it");
      t.open();
      await settle();
      assert.deepEqual(t.heard, [1, 2, 3, 4, 5].map((n) => ({ n })));
      assert.deepEqual(t.publishes.map((m) => JSON.parse(m).event.payload.n), [2, 4], "only the shared ones");
      assert.deepEqual(t.errors, []);
    } finally {
      await t.close();
      await server.stop();
    }
  });

  Deno.test("own events go as they were published, and a reconnected subscriber does not hold them", async () => {
    const server = await startRedisServer();
    const t = await gatedBus(server.url);
    try {
      t.gate();
      const changed = chat(1);
      t.bus.publish(changed);
      t.bus.publish(mine(2));
      (changed.payload as { n: number }).n = 99;
      t.open();
      await settle();
      assert.deepEqual(t.heard, [{ n: 1 }, { n: 2 }], "the event as published, not as changed after");
      // Echoes missed while the subscriber was away never come: its reconnection lets what waits go.
      t.gate();
      t.bus.publish(chat(3));
      t.bus.publish(mine(4));
      await t.bus.flush();
      t.reconnected();
      assert.deepEqual(t.heard.slice(2), [{ n: 3 }, { n: 4 }]);
      t.open();
      await settle();
      assert.deepEqual(t.heard.slice(2), [{ n: 3 }, { n: 4 }], "the late echo is dropped");
      assert.deepEqual(t.errors, []);
    } finally {
      await t.close();
      await server.stop();
    }
  });
}
