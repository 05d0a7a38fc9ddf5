// The SystemEventStore contract: every implementation (in-process, Redis) runs these.
import assert from "node:assert/strict";
import { SYSTEM_EVENTS_CAP, type SystemEventStore } from "../../lib/state/system-events.ts";

/** Registers the SystemEventStore contract tests for `name`; `make` returns an empty store. */
export function systemEventsContract(name: string, make: () => Promise<SystemEventStore>): void {
  const test = (what: string, fn: (store: SystemEventStore) => Promise<void>) =>
    Deno.test(`${name} system events: ${what}`, async () => await fn(await make()));

  test("a session without events takes none", async (store) => {
    assert.deepEqual(await store.take("agent:main:main"), []);
  });

  test("events are taken oldest first, once: a second take finds the queue empty", async (store) => {
    await store.enqueue("agent:main:main", "first");
    await store.enqueue("agent:main:main", "second");
    assert.deepEqual(await store.take("agent:main:main"), ["first", "second"]);
    assert.deepEqual(await store.take("agent:main:main"), []);
  });

  test("sessions have queues of their own", async (store) => {
    await store.enqueue("agent:main:main", "for main");
    await store.enqueue("agent:ops:main", "for ops");
    assert.deepEqual(await store.take("agent:ops:main"), ["for ops"]);
    assert.deepEqual(await store.take("agent:main:main"), ["for main"]);
  });

  test("past the cap the oldest events go", async (store) => {
    for (let i = 0; i < SYSTEM_EVENTS_CAP + 5; i++) await store.enqueue("s", `e${i}`);
    const taken = await store.take("s");
    assert.equal(taken.length, SYSTEM_EVENTS_CAP);
    assert.equal(taken[0], "e5");
    assert.equal(taken.at(-1), `e${SYSTEM_EVENTS_CAP + 4}`);
  });

  test("parallel takes never hand one event to two takers", async (store) => {
    for (let i = 0; i < 10; i++) await store.enqueue("s", `e${i}`);
    const takes = await Promise.all(Array.from({ length: 5 }, () => store.take("s")));
    assert.deepEqual(takes.flat().sort(), Array.from({ length: 10 }, (_, i) => `e${i}`).sort());
  });

  test("an event queued after a take waits for the next one", async (store) => {
    await Promise.all([store.enqueue("s", "a"), store.take("s"), store.enqueue("s", "b")]);
    assert.deepEqual(await store.take("s"), ["b"]);
  });
}
