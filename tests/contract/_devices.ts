// The DeviceStore contract: every implementation (in-process, Redis) runs these.
import assert from "node:assert/strict";
import { GatewayError } from "../../lib/errors.ts";
import {
  type DeviceStore,
  MAX_PENDING_PAIRINGS,
  MAX_PENDING_PAIRINGS_PER_ADDRESS,
  type PairedDevice,
  PENDING_PAIRING_TTL_MS,
  type PendingPairing,
} from "../../lib/state/devices.ts";

const T0 = 1_700_000_000_000;

const device = (id: string, token: string, extra: Partial<PairedDevice> = {}): PairedDevice => ({
  deviceId: id,
  publicKey: `pk-${id}`,
  role: "operator",
  roles: ["operator"],
  scopes: ["operator.read"],
  tokens: { operator: { token, role: "operator", scopes: ["operator.read"], createdAtMs: T0 } },
  createdAtMs: T0,
  approvedAtMs: T0,
  ...extra,
});

const request = (
  requestId: string,
  deviceId: string,
  extra: Partial<PendingPairing> = {},
): PendingPairing => ({
  requestId,
  deviceId,
  publicKey: `pk-${deviceId}`,
  role: "operator",
  scopes: ["operator.read"],
  ts: T0,
  ...extra,
});

/** Registers the DeviceStore contract tests for `name`; `make` returns an empty store. */
export function devicesContract(name: string, make: () => Promise<DeviceStore>): void {
  const test = (what: string, fn: (store: DeviceStore) => Promise<void>) =>
    Deno.test(`${name} devices: ${what}`, async () => await fn(await make()));

  test("an empty store knows no device, no token and no request", async (store) => {
    assert.equal(await store.get("abc"), undefined);
    assert.equal(await store.byToken("tok"), undefined);
    assert.equal(await store.byToken(""), undefined);
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(await store.listPending(T0), []);
    assert.equal(await store.takePending("r1", T0), undefined);
    assert.equal(await store.remove("abc"), undefined);
  });

  test("a saved pairing is found by id (any case) and by its token", async (store) => {
    const paired = device("abc", "tok-1", { role: "node", roles: ["node"], scopes: [] });
    await store.save(paired);
    assert.deepEqual(await store.get("abc"), paired);
    assert.deepEqual(await store.get("ABC"), paired);
    assert.deepEqual(await store.byToken("tok-1"), paired);
    assert.equal(await store.byToken("TOK-1"), undefined, "tokens are exact");
    assert.deepEqual(await store.list(), [paired]);
  });

  test("each role's token is found; a replaced or revoked token stops working", async (store) => {
    const node = { token: "tok-n", role: "node", scopes: [], createdAtMs: T0 };
    await store.save(device("abc", "tok-1", { roles: ["operator", "node"] }));
    await store.save({ ...device("abc", "tok-1"), tokens: { ...device("abc", "tok-1").tokens, node } });
    assert.equal((await store.byToken("tok-n"))?.deviceId, "abc");
    await store.save(device("ABC", "tok-2", { scopes: ["operator.read", "operator.write"] }));
    assert.equal(await store.byToken("tok-1"), undefined);
    assert.equal(await store.byToken("tok-n"), undefined);
    assert.equal((await store.byToken("tok-2"))?.tokens.operator.token, "tok-2");
    assert.deepEqual((await store.get("abc"))?.scopes, ["operator.read", "operator.write"]);
    const revoked = device("abc", "tok-2");
    revoked.tokens.operator.revokedAtMs = T0 + 1;
    await store.save(revoked);
    assert.equal(await store.byToken("tok-2"), undefined, "a revoked token authenticates nothing");
    assert.equal((await store.get("abc"))?.tokens.operator.revokedAtMs, T0 + 1);
    assert.equal((await store.list()).length, 1);
  });

  test("list keeps first-save order when a pairing is updated", async (store) => {
    await store.save(device("a", "t-a"));
    await store.save(device("b", "t-b"));
    await store.save(device("a", "t-a2"));
    assert.deepEqual((await store.list()).map((d) => d.tokens.operator.token), ["t-a2", "t-b"]);
  });

  test("remove deletes the pairing, its tokens and its pending requests", async (store) => {
    await store.save(device("a", "t-a"));
    await store.save(device("b", "t-b"));
    await store.request(request("r-a", "a", { scopes: ["operator.admin"] }));
    await store.request(request("r-b", "b", { scopes: ["operator.admin"] }));
    assert.equal((await store.remove("A"))?.deviceId, "a");
    assert.equal(await store.get("a"), undefined);
    assert.equal(await store.byToken("t-a"), undefined);
    assert.deepEqual((await store.list()).map((d) => d.deviceId), ["b"]);
    assert.deepEqual((await store.listPending(T0)).map((r) => r.requestId), ["r-b"]);
    await store.save(device("a", "t-a3"));
    assert.deepEqual((await store.list()).map((d) => d.deviceId), ["b", "a"]);
  });

  test("the store keeps its own copy: neither the saved nor a returned object changes it", async (store) => {
    const paired = device("abc", "tok-1");
    await store.save(paired);
    paired.scopes.push("operator.admin");
    paired.role = "node";
    const got = (await store.get("abc"))!;
    try {
      got.scopes.push("operator.admin");
      got.tokens.operator.token = "stolen";
    } catch {
      // Frozen objects refuse the write; either way the store must not change.
    }
    const again = (await store.byToken("tok-1"))!;
    assert.deepEqual(again.scopes, ["operator.read"]);
    assert.equal(again.role, "operator");
    assert.equal(again.tokens.operator.token, "tok-1");
  });

  test("parallel saves of distinct devices all land, each token found", async (store) => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.save(device(`d${i}`, `t${i}`))));
    assert.equal((await store.list()).length, 50);
    const found = await Promise.all(Array.from({ length: 50 }, (_, i) => store.byToken(`t${i}`)));
    assert.deepEqual(found.map((d) => d?.deviceId), Array.from({ length: 50 }, (_, i) => `d${i}`));
  });

  test("parallel saves of one device leave exactly one working token, the stored one", async (store) => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save(device("x", `t${i}`))));
    const stored = (await store.get("x"))!;
    const working = (await Promise.all(Array.from({ length: 20 }, (_, i) => store.byToken(`t${i}`))))
      .filter(Boolean);
    assert.equal(working.length, 1);
    assert.equal(working[0]!.tokens.operator.token, stored.tokens.operator.token);
  });

  test("a request is pending until taken; an identical one is reused, a different one supersedes", async (store) => {
    const first = await store.request(request("r1", "d"));
    assert.deepEqual(first, { request: request("r1", "d"), created: true, superseded: [], evicted: [] });
    const again = await store.request(request("r2", "d", { ts: T0 + 10 }));
    assert.equal(again.created, false);
    assert.equal(again.request.requestId, "r1");
    const wider = await store.request(request("r3", "d", { scopes: ["operator.admin"], ts: T0 + 20 }));
    assert.equal(wider.created, true);
    assert.deepEqual(wider.superseded.map((r) => r.requestId), ["r1"]);
    assert.deepEqual(wider.evicted, [], "a device's own request is superseded, not evicted");
    await store.request(request("r4", "e", { ts: T0 + 30 }));
    assert.deepEqual((await store.listPending(T0 + 40)).map((r) => r.requestId), ["r3", "r4"]);
    assert.equal((await store.pending("r3", T0 + 40))?.deviceId, "d");
    assert.equal(await store.pending("r1", T0 + 40), undefined);
    assert.equal((await store.takePending("r3", T0 + 40))?.requestId, "r3");
    assert.equal(await store.takePending("r3", T0 + 40), undefined, "a request is taken once");
    assert.deepEqual((await store.listPending(T0 + 40)).map((r) => r.requestId), ["r4"]);
  });

  test("requests expire five minutes after they were made", async (store) => {
    await store.request(request("r1", "d"));
    assert.ok(await store.pending("r1", T0 + PENDING_PAIRING_TTL_MS - 1));
    assert.equal(await store.pending("r1", T0 + PENDING_PAIRING_TTL_MS), undefined);
    assert.deepEqual(await store.listPending(T0 + PENDING_PAIRING_TTL_MS), []);
    assert.equal(await store.takePending("r1", T0 + PENDING_PAIRING_TTL_MS), undefined);
    const later = await store.request(request("r2", "d", { ts: T0 + PENDING_PAIRING_TTL_MS + 1 }));
    assert.equal(later.created, true, "an expired request is not reused");
  });

  test("of parallel takers of one request exactly one gets it", async (store) => {
    await store.request(request("r1", "d"));
    const taken = await Promise.all(Array.from({ length: 10 }, () => store.takePending("r1", T0)));
    assert.equal(taken.filter(Boolean).length, 1);
  });

  test("pending requests are capped per client address; the same device asking again still gets through", async (store) => {
    const from = (i: number, extra: Partial<PendingPairing> = {}) =>
      request(`r${i}`, `d${i}`, { remoteIp: "203.0.113.7", ts: T0 + i, ...extra });
    for (let i = 0; i < MAX_PENDING_PAIRINGS_PER_ADDRESS; i++) {
      assert.ok((await store.request(from(i))).created);
    }
    const refused = await store.request(from(99)).catch((error) => error);
    assert.ok(refused instanceof GatewayError, "a new device past the address's limit is refused");
    assert.equal(refused.code, "UNAVAILABLE");
    assert.equal(refused.retryable, true);
    assert.equal(refused.details?.code, "PAIRING_REQUESTS_LIMITED");
    assert.equal(refused.details?.limit, "address");
    assert.equal(refused.retryAfterMs, PENDING_PAIRING_TTL_MS - 99, "until the oldest request expires");
    assert.equal(await store.pending("r99", T0 + 99), undefined, "a refusal records nothing");
    const again = await store.request(from(0, { requestId: "r0b", ts: T0 + 100 }));
    assert.equal(again.created, false, "a device retrying reuses its request");
    const wider = await store.request(
      from(1, { requestId: "r1b", scopes: ["operator.admin"], ts: T0 + 101 }),
    );
    assert.deepEqual([wider.created, wider.superseded.map((r) => r.requestId)], [true, ["r1"]]);
    const elsewhere = await store.request(from(100, { remoteIp: "198.51.100.1" }));
    assert.ok(elsewhere.created, "another address has its own share");
    const pending = await store.listPending(T0 + 200);
    assert.equal(
      pending.filter((r) => r.remoteIp === "203.0.113.7").length,
      MAX_PENDING_PAIRINGS_PER_ADDRESS,
    );
    const afterExpiry = await store.request(from(99, { ts: T0 + PENDING_PAIRING_TTL_MS + 1 }));
    assert.ok(afterExpiry.created, "room comes back once the oldest request expired");
  });

  test("the addresses of one IPv6 /64 share one address's cap; another network still pairs", async (store) => {
    let n = 0;
    const outcomes = [];
    for (let host = 1; host <= MAX_PENDING_PAIRINGS / MAX_PENDING_PAIRINGS_PER_ADDRESS; host++) {
      for (let i = 0; i < MAX_PENDING_PAIRINGS_PER_ADDRESS; i++) {
        const remoteIp = `2001:db8:1:2::${host.toString(16)}`;
        outcomes.push(
          await store.request(request(`r${n}`, `d${n++}`, { remoteIp, ts: T0 + n })).catch((e) => e),
        );
      }
    }
    assert.equal(
      outcomes.filter((o) => !(o instanceof GatewayError)).length,
      MAX_PENDING_PAIRINGS_PER_ADDRESS,
    );
    assert.equal(outcomes.at(-1).details?.limit, "address", "the /64 is one address");
    const ipv4 = await store.request(request("v4", "v4", { remoteIp: "192.168.1.20", ts: T0 + 500 }));
    const nextNet = await store.request(request("v6", "v6", { remoteIp: "2001:db8:1:3::1", ts: T0 + 501 }));
    assert.deepEqual([ipv4.created, nextNet.created], [true, true]);
  });

  test("a full gateway makes room for another network: the address holding the most loses its oldest", async (store) => {
    const perAddress = MAX_PENDING_PAIRINGS_PER_ADDRESS;
    await Promise.all(Array.from({ length: MAX_PENDING_PAIRINGS }, (_, i) =>
      store.request(
        request(`r${i}`, `d${i}`, { remoteIp: `10.0.${Math.floor(i / perAddress)}.1`, ts: T0 + i }),
      )));
    assert.equal((await store.listPending(T0 + MAX_PENDING_PAIRINGS)).length, MAX_PENDING_PAIRINGS);
    const newcomer = await store.request(request("new", "fresh", { remoteIp: "192.0.2.9", ts: T0 + 500 }));
    assert.ok(newcomer.created, "a device from another network is not locked out by the flood");
    assert.deepEqual(newcomer.evicted.map((r) => r.requestId), ["r0"], "the oldest of a fullest address");
    assert.deepEqual(newcomer.superseded, [], "no request of its own device was replaced");
    assert.equal(await store.pending("r0", T0 + 500), undefined);
    const pending = await store.listPending(T0 + 500);
    assert.equal(pending.length, MAX_PENDING_PAIRINGS);
    assert.ok(pending.some((r) => r.requestId === "new"));
  });

  test("pending requests are capped in total across addresses; a lone request is never pushed out", async (store) => {
    // One request from each of as many addresses as the gateway holds: none holds more than another.
    await Promise.all(
      Array.from(
        { length: MAX_PENDING_PAIRINGS },
        (_, i) => store.request(request(`r${i}`, `d${i}`, { remoteIp: `10.0.${i}.1`, ts: T0 + i })),
      ),
    );
    assert.equal((await store.listPending(T0 + MAX_PENDING_PAIRINGS)).length, MAX_PENDING_PAIRINGS);
    const refused = await store.request(request("new", "fresh", { remoteIp: "10.0.5.1", ts: T0 + 500 }))
      .catch((error) => error);
    assert.ok(refused instanceof GatewayError, "an address already holding as many as any other is refused");
    assert.equal(refused.details?.limit, "total");
    assert.equal(refused.details?.max, MAX_PENDING_PAIRINGS);
    assert.match(refused.message, /too many pending device pairing requests on this gateway/);
    assert.equal(refused.retryAfterMs, PENDING_PAIRING_TTL_MS - 500);
    const replaced = await store.request(
      request("r5b", "d5", { remoteIp: "10.0.5.1", scopes: [], ts: T0 + 501 }),
    );
    assert.ok(replaced.created, "a waiting device's new request replaces its own, so it is never refused");
    assert.deepEqual(replaced.superseded.map((r) => r.requestId), ["r5"]);
    // Otherwise one more address than the cap (129 on a LAN) could purge every legitimate request in turn.
    const elsewhere = await store.request(request("new", "fresh", { remoteIp: "192.0.2.9", ts: T0 + 502 }))
      .catch((error) => error);
    assert.ok(elsewhere instanceof GatewayError, "a request holding its address alone is not evicted");
    assert.equal(elsewhere.details?.limit, "total");
    const pending = await store.listPending(T0 + 502);
    assert.equal(pending.length, MAX_PENDING_PAIRINGS);
    assert.ok(pending.some((r) => r.requestId === "r0"), "the oldest lone request still waits");
  });
}
