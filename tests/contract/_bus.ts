// The contract every EventBus meets. Delivery may be asynchronous (a shared bus), so the tests wait
// for what they expect instead of assuming it arrived on return from publish.
import assert from "node:assert/strict";
import type { BusEvent, EventBus, PublishGuard } from "../../lib/bus/types.ts";
import type { LeaseStore } from "../../lib/state/leases.ts";
import type { TranscriptStore } from "../../lib/state/sessions.ts";

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

/** What {@link guardedPublishContract} needs: a bus, and the leases and transcripts its guard reads. */
export interface GuardedBusStores {
  bus: EventBus;
  leases: LeaseStore;
  transcripts: TranscriptStore;
}

/**
 * Registers the contract of `EventBus.publishIfHeld` for a bus that has it: it publishes only while the
 * guard's lease is held by its owner and its line is in place, and a refused publish neither reaches a
 * listener nor disturbs the ones after it.
 */
export function guardedPublishContract(name: string, make: () => Promise<GuardedBusStores>): void {
  Deno.test(`EventBus contract (${name}): publishIfHeld publishes only while the lease holds and the line is in place`, async () => {
    const { bus, leases, transcripts } = await make();
    assert.ok(bus.publishIfHeld, "the bus has publishIfHeld");
    const got: unknown[] = [];
    bus.subscribe((e) => got.push(e.payload));
    const ref = { agentId: "main", sessionId: "guarded" };
    const [line] = await transcripts.append(ref, [{
      id: "reply-1",
      ts: 1,
      role: "assistant",
      content: "hi",
    }]);
    assert.ok(await leases.acquire("session:g", "owner-a/1", 60_000));
    const held = { lease: "session:g", owner: "owner-a/1" };
    const inPlace = { ...ref, seq: line.seq, id: "reply-1" };
    const publish = (n: number[], guard: PublishGuard) =>
      bus.publishIfHeld!(n.map((each) => event(each)), guard);

    assert.equal(await publish([1, 2], { ...held, line: inPlace }), true);
    assert.equal(await publish([3], { ...held, owner: "owner-b/1" }), false, "another owner");
    assert.equal(
      await publish([4], { ...held, line: { ...inPlace, seq: line.seq + 1 } }),
      false,
      "no such line",
    );
    assert.equal(await publish([5], { ...held, line: { ...inPlace, id: "reply-2" } }), false, "another line");
    assert.equal(await publish([6], { ...held, lease: "session:other" }), false, "a lease no one holds");
    assert.equal(await publish([7], held), true, "the lease alone");
    // The refused publishes' numbers never come back: what follows them is heard, once.
    bus.publish(event(8));
    await until(() => got.length >= 4, "the published events");
    await settle();
    assert.deepEqual(got, [{ n: 1 }, { n: 2 }, { n: 7 }, { n: 8 }]);
    await bus.close();
    assert.equal(await publish([9], held), false, "nothing once closed");
  });
}
