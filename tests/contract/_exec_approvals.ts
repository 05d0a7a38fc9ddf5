// The ExecApprovalStore contract: every implementation (in-process, Redis) runs these.
import assert from "node:assert/strict";
import { GatewayError } from "../../lib/errors.ts";
import {
  type ExecApprovalRecord,
  type ExecApprovalStore,
  MAX_PENDING_APPROVALS,
  MAX_PENDING_APPROVALS_PER_ADDRESS,
  RESOLVED_APPROVAL_RETAIN_MS,
} from "../../lib/state/exec-approvals.ts";
import { type TestClock, testClock } from "./_clock.ts";

const record = (
  id: string,
  createdAtMs: number,
  extra: Partial<ExecApprovalRecord> = {},
): ExecApprovalRecord => ({
  id,
  request: {
    command: `run ${id}`,
    commandArgv: [],
    agentId: "main",
    allowedDecisions: ["allow-once", "deny"],
  },
  createdAtMs,
  expiresAtMs: createdAtMs + 60_000,
  ...extra,
});

/**
 * Registers the ExecApprovalStore contract tests for `name`; `make` returns an empty store on `clock` (the
 * clock a network store judges expiry by).
 */
export function execApprovalsContract(
  name: string,
  make: (clock: TestClock) => Promise<ExecApprovalStore>,
): void {
  const test = (what: string, fn: (store: ExecApprovalStore, clock: TestClock) => Promise<void>) =>
    Deno.test(`${name} exec approvals: ${what}`, async () => {
      const clock = testClock();
      await fn(await make(clock), clock);
    });

  test("a created request is pending, listed, and found by id as it was stored", async (store, clock) => {
    const t = clock.now();
    assert.deepEqual(await store.create(record("a", t), t), []);
    assert.deepEqual(await store.create(record("b", t + 1), t), []);
    assert.equal(await store.create(record("a", t + 2), t), false, "a live id is not reused");
    assert.deepEqual(await store.get("a", t), record("a", t));
    assert.deepEqual((await store.listPending(t)).map((r) => r.id), ["a", "b"]);
    assert.equal(await store.get("zz", t), undefined);
  });

  test(
    "the first answer wins; a second one is a repeat carrying the first decision",
    async (store, clock) => {
      const t = clock.now();
      await store.create(record("a", t), t);
      clock.advance(5);
      const first = await store.resolve("a", "allow-once", "ops", t + 5);
      assert.equal(first.outcome, "resolved");
      assert.deepEqual(first.outcome === "resolved" && first.record, {
        ...record("a", t),
        decision: "allow-once",
        resolvedBy: "ops",
        resolvedAtMs: t + 5,
      });
      const second = await store.resolve("a", "deny", null, t + 6);
      assert.equal(second.outcome, "repeat");
      assert.equal(second.outcome === "repeat" && second.record.decision, "allow-once");
      assert.deepEqual(await store.listPending(t + 6), []);
      assert.equal((await store.get("a", t + 6))?.decision, "allow-once");
      assert.equal(await store.expire("a"), false, "an answered request is not expired");
      assert.deepEqual((await store.resolve("nope", "deny", null, t)).outcome, "missing");
    },
  );

  test("parallel answers: exactly one resolves", async (store, clock) => {
    const t = clock.now();
    await store.create(record("a", t), t);
    const outcomes = await Promise.all(
      ["allow-once", "deny", "allow-always", "deny"].map((d) => store.resolve("a", d as "deny", null, t)),
    );
    assert.equal(outcomes.filter((o) => o.outcome === "resolved").length, 1);
  });

  test("an unanswered request expires; an answered one is kept a while", async (store, clock) => {
    const t = clock.now();
    await store.create(record("a", t), t);
    await store.create(record("b", t), t);
    clock.advance(10);
    await store.resolve("b", "deny", null, t + 10);
    const late = t + 60_000;
    clock.advance(late - clock.now());
    assert.equal(await store.get("a", late), undefined);
    assert.equal((await store.resolve("a", "deny", null, late)).outcome, "missing");
    assert.equal((await store.get("b", late))?.decision, "deny");
    const gone = t + 10 + RESOLVED_APPROVAL_RETAIN_MS + 60_000;
    clock.advance(gone - clock.now());
    assert.equal(await store.get("b", gone), undefined);
    assert.deepEqual(await store.create(record("b", gone), gone), [], "an id is free again once forgotten");
  });

  test("expire drops a pending request once", async (store, clock) => {
    const t = clock.now();
    await store.create(record("a", t), t);
    assert.equal(await store.expire("a"), true);
    assert.equal(await store.expire("a"), false);
    assert.equal(await store.get("a", t), undefined);
    assert.equal((await store.resolve("a", "deny", null, t)).outcome, "missing");
  });

  test("allow-always trusts a command per agent", async (store) => {
    assert.equal(await store.allowed("main", "ls -la"), false);
    await store.allow("main", "ls -la");
    assert.equal(await store.allowed("main", "ls -la"), true);
    assert.equal(await store.allowed("other", "ls -la"), false);
    assert.equal(await store.allowed("main", "ls"), false);
  });

  test(
    "a client's pending requests are capped per address; answered and the gateway's own do not count",
    async (store, clock) => {
      const t = clock.now();
      const from = (id: string, at: number, address = "203.0.113.7") =>
        record(id, at, { requestedByConnId: `conn-${id}`, requestedFrom: address });
      for (let i = 0; i < MAX_PENDING_APPROVALS_PER_ADDRESS; i++) {
        assert.deepEqual(await store.create(from(`a${i}`, t + i), t + i), []);
      }
      const refused = await store.create(from("over", t + 100), t + 100).catch((error) => error);
      assert.ok(refused instanceof GatewayError, "past the address's limit a new request is refused");
      assert.equal(refused.code, "UNAVAILABLE");
      assert.equal(refused.retryable, true);
      assert.equal(refused.details?.code, "APPROVAL_REQUESTS_LIMITED");
      assert.equal(refused.details?.limit, "address");
      assert.equal(refused.retryAfterMs, 60_000 - 100, "until the oldest waiting one expires");
      assert.equal(await store.get("over", t + 100), undefined, "a refusal records nothing");
      assert.deepEqual(
        await store.create(record("own", t + 100), t + 100),
        [],
        "the gateway's own are not capped",
      );
      assert.deepEqual(
        await store.create(from("b0", t + 100, "198.51.100.1"), t + 100),
        [],
        "another address",
      );
      await store.resolve("a0", "deny", "ops", t + 101);
      assert.deepEqual(
        await store.create(from("after", t + 102), t + 102),
        [],
        "an answered one frees its slot",
      );
    },
  );

  test(
    "the addresses of one IPv6 /64 share one address's cap; another network still asks",
    async (store, clock) => {
      const t = clock.now();
      const from = (id: string, address: string) =>
        record(id, t, { requestedByConnId: `conn-${id}`, requestedFrom: address });
      let created = 0;
      let last: unknown;
      for (let host = 1; host <= MAX_PENDING_APPROVALS / MAX_PENDING_APPROVALS_PER_ADDRESS; host++) {
        for (let i = 0; i < MAX_PENDING_APPROVALS_PER_ADDRESS; i++) {
          last = await store.create(from(`h${host}-${i}`, `2001:db8:1:2::${host.toString(16)}`), t)
            .catch((error) => error);
          if (Array.isArray(last)) created++;
        }
      }
      assert.equal(created, MAX_PENDING_APPROVALS_PER_ADDRESS);
      assert.ok(last instanceof GatewayError);
      assert.equal(last.details?.limit, "address", "the /64 is one address");
      assert.deepEqual(await store.create(from("v4", "192.168.1.20"), t), []);
      assert.deepEqual(await store.create(from("v6", "2001:db8:1:3::1"), t), []);
    },
  );

  test(
    "a full gateway makes room for another network: the address holding the most loses its oldest",
    async (store, clock) => {
      const t = clock.now();
      const perAddress = MAX_PENDING_APPROVALS_PER_ADDRESS;
      for (let i = 0; i < MAX_PENDING_APPROVALS; i++) {
        const address = `10.0.${Math.floor(i / perAddress)}.1`;
        assert.deepEqual(await store.create(record(`r${i}`, t + i, { requestedFrom: address }), t + i), []);
      }
      const at = t + MAX_PENDING_APPROVALS;
      assert.deepEqual(
        await store.create(record("new", at, { requestedFrom: "192.0.2.9" }), at),
        [record("r0", t, { requestedFrom: "10.0.0.1" })],
        "the request it took the place of, for its caller to hear of",
      );
      assert.equal(await store.get("r0", at), undefined, "the oldest of a fullest address made room");
      const pending = await store.listPending(at);
      assert.equal(pending.length, MAX_PENDING_APPROVALS);
      assert.ok(pending.some((r) => r.id === "new"));
    },
  );

  test(
    "a client's pending requests are capped in total; a lone request is never pushed out",
    async (store, clock) => {
      const t = clock.now();
      // One request from each of as many addresses as the gateway holds: none holds more than another.
      for (let i = 0; i < MAX_PENDING_APPROVALS; i++) {
        await store.create(record(`r${i}`, t, { requestedFrom: `10.0.${i}.1` }), t);
      }
      const refused = await store.create(record("new", t, { requestedFrom: "10.0.7.1" }), t)
        .catch((error) => error);
      assert.ok(
        refused instanceof GatewayError,
        "an address already holding as many as any other is refused",
      );
      assert.equal(refused.details?.limit, "total");
      assert.equal(refused.details?.max, MAX_PENDING_APPROVALS);
      assert.equal(refused.retryAfterMs, 60_000);
      // Otherwise one more address than the cap could purge every legitimate request in turn.
      const elsewhere = await store.create(record("new", t, { requestedFrom: "192.0.2.9" }), t)
        .catch((error) => error);
      assert.ok(elsewhere instanceof GatewayError, "a request holding its address alone is not evicted");
      assert.equal(elsewhere.details?.limit, "total");
      assert.equal((await store.listPending(t)).length, MAX_PENDING_APPROVALS);
      assert.ok(await store.get("r0", t), "the oldest lone request still waits");
      clock.advance(60_000);
      const later = t + 60_000;
      assert.deepEqual(await store.create(record("late", later, { requestedFrom: "10.0.7.1" }), later), []);
    },
  );
}
