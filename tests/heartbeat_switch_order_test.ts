// Switches are ordered cluster-wide: an answer to a starting replica's ask, built from a lagging replica's
// stale view, must not override an operator's newer set-heartbeats on any replica.
import assert from "node:assert/strict";
import { HeartbeatState } from "../lib/agents/heartbeat-events.ts";
import type { BusEvent, EventBus } from "../lib/bus/types.ts";

type Replica = EventBus & { held: boolean; step(): void; drain(): void };

/** Redis pub/sub as seen by replicas: one global message order, each replica hearing it with its own lag. */
function laggyBus(): () => Replica {
  const replicas: { r: Replica; queue: BusEvent[]; listeners: Set<(e: BusEvent) => void> }[] = [];
  return () => {
    const me = { queue: [] as BusEvent[], listeners: new Set<(e: BusEvent) => void>() } as {
      r: Replica;
      queue: BusEvent[];
      listeners: Set<(e: BusEvent) => void>;
    };
    const deliver = () => {
      const e = me.queue.shift();
      if (e) { for (const l of [...me.listeners]) l(e); }
    };
    me.r = {
      held: false,
      publish(event) {
        for (const other of replicas) other.queue.push(structuredClone(event));
        for (const other of replicas) if (!other.r.held) other.r.drain();
      },
      subscribe(l) {
        me.listeners.add(l);
        return () => me.listeners.delete(l);
      },
      close: () => Promise.resolve(),
      step: deliver,
      drain() {
        while (me.queue.length) deliver();
      },
    };
    replicas.push(me);
    return me.r;
  };
}

Deno.test("an answer to a late replica's ask does not undo a newer operator switch", () => {
  const replica = laggyBus();
  const busA = replica();
  const busB = replica();
  const a = new HeartbeatState(busA, () => 0);
  const b = new HeartbeatState(busB, () => 0);
  a.setEnabled(false); // an operator switches heartbeats off (through replica A)
  assert.deepEqual([a.enabled, b.enabled], [false, false]);
  // Replica A lags on the bus. C starts and asks; then the operator switches on through B.
  busA.held = true;
  const busC = replica();
  const c = new HeartbeatState(busC, () => 0); // ASK
  b.setEnabled(true); // SWITCH on, after the ASK in the bus's order
  busA.step(); // A hears the ASK first and answers from what it knows: off
  busA.held = false;
  busA.drain();
  busB.drain();
  busC.drain();
  const states = [a.enabled, b.enabled, c.enabled];
  for (const s of [a, b, c]) s.close();
  assert.deepEqual(states, [true, true, true], `the operator's last switch was on; replicas hold ${states}`);
});

Deno.test("an unstamped switch from a replica of an earlier version applies until a stamped one is heard", () => {
  const replica = laggyBus();
  const bus = replica();
  const state = new HeartbeatState(bus, () => 0);
  bus.publish({ event: "agents.heartbeat.switch", payload: { enabled: false }, internal: true });
  const unstampedFirst = state.enabled;
  state.setEnabled(true);
  bus.publish({ event: "agents.heartbeat.switch", payload: { enabled: false }, internal: true });
  const enabled = state.enabled;
  state.close();
  assert.equal(unstampedFirst, false);
  assert.equal(enabled, true, "an unstamped switch cannot be ordered against a stamped one: it must not win");
});
