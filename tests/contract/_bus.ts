// The contract every EventBus meets. Delivery may be asynchronous (a shared bus), so the tests wait
// for what they expect instead of assuming it arrived on return from publish.
import assert from "node:assert/strict";
import type { BusEvent, EventBus } from "../../lib/bus/types.ts";

/** Waits until `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets a slow bus deliver anything still in flight, to check that something did NOT arrive. */
const settle = () => new Promise((r) => setTimeout(r, 50));

function event(n: number, extra: Partial<BusEvent> = {}): BusEvent {
  return { event: "chat", payload: { n }, ...extra };
}

/** Registers the EventBus contract tests for the implementation `name`. */
export function busContract(name: string, make: () => EventBus | Promise<EventBus>): void {
  const test = (title: string, body: (bus: EventBus) => Promise<void>) =>
    Deno.test(`EventBus contract (${name}): ${title}`, async () => {
      const bus = await make();
      try {
        await body(bus);
      } finally {
        await bus.close();
      }
    });

  test("every listener gets every event, in publish order", async (bus) => {
    const a: unknown[] = [];
    const b: unknown[] = [];
    bus.subscribe((e) => a.push(e.payload));
    bus.subscribe((e) => b.push(e.payload));
    for (let n = 0; n < 50; n++) bus.publish(event(n));
    await until(() => a.length === 50 && b.length === 50, "50 events on both listeners");
    const expected = Array.from({ length: 50 }, (_, n) => ({ n }));
    assert.deepEqual(a, expected);
    assert.deepEqual(b, expected);
  });

  test("flush, where the bus has one, resolves once the events published before it left, also after close", async (bus) => {
    if (!bus.flush) return;
    const got: unknown[] = [];
    bus.subscribe((e) => got.push(e.payload));
    for (let n = 0; n < 20; n++) bus.publish(event(n));
    await bus.flush();
    await until(() => got.length === 20, "the 20 events flushed");
    await bus.close();
    await bus.flush();
  });

  test("events of one session keep their order among other sessions' events", async (bus) => {
    const got: BusEvent[] = [];
    bus.subscribe((e) => got.push(e));
    for (let n = 0; n < 30; n++) bus.publish(event(n, { sessionKey: `agent:main:s${n % 3}` }));
    await until(() => got.length === 30, "30 events");
    for (const key of ["agent:main:s0", "agent:main:s1", "agent:main:s2"]) {
      const ns = got.filter((e) => e.sessionKey === key).map((e) => (e.payload as { n: number }).n);
      assert.deepEqual(ns, [...ns].sort((x, y) => x - y));
      assert.equal(ns.length, 10);
    }
  });

  test("the addressing fields arrive as published", async (bus) => {
    const got: BusEvent[] = [];
    bus.subscribe((e) => got.push(e));
    const sent: BusEvent = {
      event: "session.tool",
      payload: { deep: { list: [1, "two"] } },
      scope: "operator.read",
      topics: ["sessions", "session:agent:main:main"],
      sessionKey: "agent:main:main",
      dropIfSlow: true,
    };
    bus.publish(sent);
    bus.publish({ event: "agents.run.ended", payload: { runId: "r" }, internal: true });
    await until(() => got.length === 2, "2 events");
    assert.deepEqual(got[0], sent);
    assert.deepEqual(got[1], { event: "agents.run.ended", payload: { runId: "r" }, internal: true });
  });

  test("an unsubscribed listener hears nothing more; the others still do", async (bus) => {
    const a: unknown[] = [];
    const b: unknown[] = [];
    const stopA = bus.subscribe((e) => a.push(e.payload));
    bus.subscribe((e) => b.push(e.payload));
    bus.publish(event(1));
    await until(() => a.length === 1 && b.length === 1, "the first event");
    stopA();
    bus.publish(event(2));
    await until(() => b.length === 2, "the second event");
    await settle();
    assert.deepEqual(a, [{ n: 1 }]);
  });

  test("a throwing listener does not keep the event from the others", async (bus) => {
    const got: unknown[] = [];
    bus.subscribe(() => {
      throw new Error("listener bug");
    });
    bus.subscribe((e) => got.push(e.payload));
    bus.publish(event(1));
    bus.publish(event(2));
    await until(() => got.length === 2, "both events");
  });

  test("close stops delivery, ignores later publishes and subscribers, and may be called twice", async (bus) => {
    const got: unknown[] = [];
    bus.subscribe((e) => got.push(e.payload));
    bus.publish(event(1));
    await until(() => got.length === 1, "the event before close");
    await bus.close();
    bus.publish(event(2));
    const late: unknown[] = [];
    const unsubscribe = bus.subscribe((e) => late.push(e.payload));
    unsubscribe();
    bus.publish(event(3));
    await settle();
    assert.deepEqual(got, [{ n: 1 }]);
    assert.deepEqual(late, []);
    await bus.close();
  });
}
