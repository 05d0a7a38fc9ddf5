// Review 10: the order of one session's events on the Redis bus when a replica's own events no longer come
// back through its subscriber connection. That connection carries every replica's events and can lag the
// command connection (a backlog in its socket, a slow read): a message Redis ran is then "in flight", which
// the gate below stands for. Two replicas, one real redis-server.
import assert from "node:assert/strict";
import { createClient } from "redis";
import type { BusEvent } from "../lib/bus/types.ts";
import { RedisEventBus } from "../lib/state/redis/bus.ts";
import { RedisConnection } from "../lib/state/redis/connection.ts";
import { RedisLeaseStore } from "../lib/state/redis/leases.ts";
import { redisTest } from "./_redis_server.ts";

/** One replica: its bus (whose subscriber's messages wait behind a gate while closed), leases and what its listeners heard. */
async function replica(url: string) {
  const raw = createClient({ url });
  const subscriber = raw.duplicate();
  await Promise.all([raw.connect(), subscriber.connect()]);
  const connection = new RedisConnection(raw, "o:");
  await connection.load([...RedisLeaseStore.scripts, ...RedisEventBus.scripts]);
  await connection.learnClock();
  let gated = false;
  const held: (() => void)[] = [];
  const subscribe = subscriber.subscribe.bind(subscriber);
  // deno-lint-ignore no-explicit-any
  (subscriber as any).subscribe = (channels: string[], listener: (message: string) => void) =>
    subscribe(channels, (message: string) => gated ? held.push(() => listener(message)) : listener(message));
  const bus = await RedisEventBus.open(connection.client, subscriber, "o:bus", () => {}, connection);
  const heard: string[] = [];
  bus.subscribe((event) => heard.push(event.event));
  return {
    bus,
    heard,
    leases: new RedisLeaseStore(connection),
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

const settle = () => new Promise((r) => setTimeout(r, 100));
const ofSession = (event: string, extra: Partial<BusEvent> = {}): BusEvent => ({
  event,
  payload: {},
  sessionKey: "agent:main:s",
  ...extra,
});

redisTest(
  "review10: a guarded publish answered here does not overtake another replica's event Redis ran before it",
  async (redis) => {
    const a = await replica(redis.url);
    const b = await replica(redis.url);
    try {
      assert.ok(await a.leases.acquire("session:s", "a/1", 60_000));
      // B's message for the session (a `sessions.patch` there, say) is run by Redis, and still on its way
      // to A when A's turn ends.
      a.gate();
      b.bus.publish(ofSession("sessions.changed"));
      await b.bus.flush();
      assert.equal(
        await a.bus.publishIfHeld!([ofSession("chat")], { lease: "session:s", owner: "a/1" }),
        true,
      );
      a.open();
      await settle();
      assert.deepEqual(b.heard, ["sessions.changed", "chat"], "Redis's order, on B");
      assert.deepEqual(a.heard, b.heard, "A's sockets get the session's events in another order");
    } finally {
      await a.close();
      await b.close();
    }
  },
);

redisTest(
  "review10: the session's lease moves: the new holder's first event for its sender does not overtake the old holder's final",
  async (redis) => {
    const a = await replica(redis.url);
    const b = await replica(redis.url);
    try {
      // B runs turn 1 and ends it; A, which polls for the lease, runs turn 2 once B let it go.
      const token = await b.leases.acquire("session:s", "b/1", 60_000);
      assert.ok(token);
      a.gate();
      assert.equal(
        await b.bus.publishIfHeld!([ofSession("turn1.final")], { lease: "session:s", owner: "b/1" }),
        true,
      );
      await b.leases.release("session:s", token);
      assert.ok(await a.leases.acquire("session:s", "a/1", 60_000));
      // Turn 2's start: its `agent` lifecycle event for the socket that sent it (run-events.ts), published
      // before the turn's first await; then (a model that failed at once) its end, by the guarded publish.
      a.bus.publish(ofSession("turn2.start", { connIds: ["sender"] }));
      assert.equal(
        await a.bus.publishIfHeld!([ofSession("turn2.final")], { lease: "session:s", owner: "a/1" }),
        true,
      );
      a.open();
      await settle();
      assert.deepEqual(b.heard, ["turn1.final", "turn2.final"], "Redis's order, on B");
      assert.deepEqual(
        a.heard,
        ["turn1.final", "turn2.start", "turn2.final"],
        "turn 2's start (its sender's socket) and final (every socket) before turn 1's final on A",
      );
    } finally {
      await a.close();
      await b.close();
    }
  },
);
