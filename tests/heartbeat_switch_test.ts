// set-heartbeats holds for the whole gateway: a replica that starts after the switch learns it from the
// others, so the heartbeat singleton moving there does not turn heartbeats back on.
import assert from "node:assert/strict";
import { InProcessEventBus } from "../lib/bus/event-bus.ts";
import { HeartbeatState } from "../lib/agents/heartbeat-events.ts";

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

Deno.test("a replica started after set-heartbeats false starts with heartbeats off", async () => {
  const bus = new InProcessEventBus();
  const first = new HeartbeatState(bus, () => 0);
  first.setEnabled(false);
  await settle();
  const later = new HeartbeatState(bus, () => 0);
  await settle();
  assert.equal(later.enabled, false);
  // One that starts after it, alongside a replica that never heard of a switch, learns the same.
  const untouched = new HeartbeatState(bus, () => 0);
  await settle();
  assert.equal(untouched.enabled, false);
  first.setEnabled(true);
  await settle();
  assert.deepEqual([first.enabled, later.enabled, untouched.enabled], [true, true, true]);
  for (const state of [first, later, untouched]) state.close();
});

Deno.test("with nobody having switched, a starting replica keeps heartbeats on and nobody answers", async () => {
  const bus = new InProcessEventBus();
  const events: string[] = [];
  bus.subscribe((event) => events.push(event.event));
  const a = new HeartbeatState(bus, () => 0);
  const b = new HeartbeatState(bus, () => 0);
  await settle();
  assert.deepEqual([a.enabled, b.enabled], [true, true]);
  assert.ok(!events.includes("agents.heartbeat.switch"));
  a.close();
  b.close();
});
