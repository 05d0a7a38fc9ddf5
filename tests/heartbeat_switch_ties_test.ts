// Concurrent heartbeat switches with equal Lamport counters resolve the same way every time: the later one
// (by the switching replica's clock) wins, not whichever replica drew the greater random id. An unstamped
// switch (a replica of an earlier version) stays known to replicas that start later.
import assert from "node:assert/strict";
import { HEARTBEAT_SWITCH_EVENT, HeartbeatState } from "../lib/agents/heartbeat-events.ts";
import type { BusEvent, EventBus } from "../lib/bus/types.ts";

/** A shared bus whose deliveries wait while `held`, so two replicas can switch before hearing each other. */
function heldBus() {
  const listeners = new Set<(event: BusEvent) => void>();
  const queue: BusEvent[] = [];
  const state = { held: false };
  const flush = () => {
    while (!state.held && queue.length) {
      const event = queue.shift()!;
      for (const listener of [...listeners]) listener(structuredClone(event));
    }
  };
  const bus: EventBus = {
    publish(event) {
      queue.push(event);
      flush();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => Promise.resolve(),
  };
  return { bus, hold: () => state.held = true, release: () => (state.held = false, flush()) };
}

Deno.test("heartbeat switch: of two concurrent switches the later one wins on every replica", () => {
  for (let round = 0; round < 20; round++) {
    const { bus, hold, release } = heldBus();
    let clock = 1_000;
    const a = new HeartbeatState(bus, () => clock);
    const b = new HeartbeatState(bus, () => clock);
    hold();
    a.setEnabled(false);
    clock = 2_000;
    b.setEnabled(true);
    release();
    const states = [a.enabled, b.enabled];
    a.close();
    b.close();
    assert.deepEqual(
      states,
      [true, true],
      `round ${round}: the later switch was on; replicas hold ${states}`,
    );
  }
});

Deno.test("heartbeat switch: a replica that starts later learns an unstamped switch", () => {
  const { bus } = heldBus();
  const a = new HeartbeatState(bus, () => 0);
  bus.publish({ event: HEARTBEAT_SWITCH_EVENT, payload: { enabled: false }, internal: true });
  const late = new HeartbeatState(bus, () => 0);
  const enabled = late.enabled;
  a.close();
  late.close();
  assert.equal(enabled, false);
});
