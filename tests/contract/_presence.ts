// The PresenceStore contract: every implementation (in-process, Redis) runs these.
import assert from "node:assert/strict";
import {
  PRESENCE_CAP,
  PRESENCE_TTL_MS,
  type PresenceEntry,
  type PresenceStore,
} from "../../lib/state/presence.ts";

const T0 = 1_700_000_000_000;
const row = (host: string, ts = T0, extra: Partial<PresenceEntry> = {}): PresenceEntry => ({
  host,
  ts,
  mode: "ui",
  ...extra,
});
const hosts = async (store: PresenceStore, now = T0) => (await store.list(now)).map((r) => r.host);

/** Registers the PresenceStore contract tests for `name`; `make` returns an empty store. */
export function presenceContract(name: string, make: () => Promise<PresenceStore>): void {
  const test = (what: string, fn: (store: PresenceStore) => Promise<void>) =>
    Deno.test(`${name} presence: ${what}`, async () => await fn(await make()));

  test("an empty store lists nothing and removing an absent key reports false", async (store) => {
    assert.deepEqual(await store.list(T0), []);
    assert.equal(await store.remove("conn:nobody"), false);
  });

  test("a row comes back with every field it was written with", async (store) => {
    const entry = row("laptop", T0, {
      ip: "203.0.113.9",
      version: "1.2.3",
      platform: "linux",
      deviceFamily: "desktop",
      modelIdentifier: "x1",
      reason: "connect",
      text: "laptop · ui · connect",
      deviceId: "abc",
      roles: ["operator"],
      scopes: ["operator.read", "operator.write"],
      instanceId: "i-1",
    });
    await store.upsert("device:abc", entry);
    assert.deepEqual(await store.list(T0), [entry]);
  });

  test("keys are case-insensitive for upsert and remove", async (store) => {
    await store.upsert("Device:AB", row("first"));
    await store.upsert("device:ab", row("second"));
    assert.deepEqual(await hosts(store), ["second"]);
    assert.equal(await store.remove("DEVICE:AB"), true);
    assert.deepEqual(await store.list(T0), []);
    assert.equal(await store.remove("device:ab"), false);
  });

  test("rows list oldest first and a refresh makes a row the newest", async (store) => {
    await store.upsert("a", row("a"));
    await store.upsert("b", row("b"));
    await store.upsert("c", row("c"));
    await store.upsert("a", row("a2"));
    assert.deepEqual(await hosts(store), ["b", "c", "a2"]);
  });

  test("a row expires once its ts is more than the TTL behind now; pinned rows never do", async (store) => {
    await store.upsert("self:gw", row("gateway", T0 - 10 * PRESENCE_TTL_MS), { pinned: true });
    await store.upsert("edge", row("edge", T0));
    await store.upsert("stale", row("stale", T0 - 1));
    assert.deepEqual(await hosts(store, T0 + PRESENCE_TTL_MS), ["gateway", "edge"], "ts = now - TTL is live");
    assert.deepEqual(await hosts(store, T0 + PRESENCE_TTL_MS + 1), ["gateway"]);
    // Refreshing an expired key brings it back as a new row.
    await store.upsert("stale", row("stale", T0 + PRESENCE_TTL_MS + 1));
    assert.deepEqual(await hosts(store, T0 + PRESENCE_TTL_MS + 1), ["gateway", "stale"]);
  });

  test("removing a pinned row removes it", async (store) => {
    await store.upsert("self:gw", row("gateway"), { pinned: true });
    assert.equal(await store.remove("self:gw"), true);
    assert.deepEqual(await store.list(T0 + 2 * PRESENCE_TTL_MS), []);
  });

  test("past the cap the oldest unpinned rows go, the pinned row stays", async (store) => {
    await store.upsert("self:gw", row("gateway"), { pinned: true });
    const extra = 10;
    for (let i = 0; i < PRESENCE_CAP + extra; i++) await store.upsert(`conn:${i}`, row(`c${i}`));
    const listed = await hosts(store);
    assert.equal(listed.length, PRESENCE_CAP);
    assert.equal(listed[0], "gateway");
    assert.equal(listed[1], `c${extra + 1}`, "the oldest unpinned rows were evicted");
    assert.equal(listed.at(-1), `c${PRESENCE_CAP + extra - 1}`);
  });

  test("the store keeps its own copy: neither the written nor a listed object changes it", async (store) => {
    const entry = row("mine", T0, { scopes: ["operator.read"] });
    await store.upsert("k", entry);
    entry.host = "changed";
    entry.scopes!.push("operator.admin");
    const [listed] = await store.list(T0);
    try {
      listed.host = "mutated";
      listed.scopes!.push("operator.admin");
    } catch {
      // Frozen rows refuse the write; either way the store must not change.
    }
    const [again] = await store.list(T0);
    assert.equal(again.host, "mine");
    assert.deepEqual(again.scopes, ["operator.read"]);
  });

  test("parallel upserts of distinct keys all land", async (store) => {
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.upsert(`conn:${i}`, row(`c${i}`))));
    assert.equal((await store.list(T0)).length, 100);
  });

  test("parallel upserts of one key leave exactly one row, one of those written", async (store) => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.upsert("device:x", row(`v${i}`))));
    const listed = await hosts(store);
    assert.equal(listed.length, 1);
    assert.match(listed[0]!, /^v\d+$/);
  });

  test("a removal naming an owner removes only that owner's row", async (store) => {
    await store.upsert("device:d1", row("old socket"), { owner: "replica-a/c1" });
    await store.upsert("Device:D1", row("new socket"), { owner: "replica-b/c7" });
    assert.equal(await store.remove("device:d1", "replica-a/c1"), false, "the late close of the old socket");
    assert.deepEqual(await hosts(store), ["new socket"]);
    assert.equal(await store.remove("DEVICE:d1", "replica-b/c7"), true);
    assert.deepEqual(await store.list(T0), []);
    assert.equal(await store.remove("device:d1", "replica-b/c7"), false, "nothing left to remove");
  });

  test("a removal without an owner removes an owned row; an unowned row refuses an owner's removal", async (store) => {
    await store.upsert("device:d2", row("owned"), { owner: "replica-a/c1" });
    assert.equal(await store.remove("device:d2"), true);
    await store.upsert("device:d2", row("owned"), { owner: "replica-a/c1" });
    await store.upsert("device:d2", row("unowned"));
    assert.equal(
      await store.remove("device:d2", "replica-a/c1"),
      false,
      "a write without owner drops the owner",
    );
    assert.deepEqual(await hosts(store), ["unowned"]);
  });

  test("an owner forgotten with its expired or evicted row does not outlive it", async (store) => {
    await store.upsert("device:old", row("old", T0 - PRESENCE_TTL_MS - 1), { owner: "o1" });
    assert.deepEqual(await store.list(T0), []);
    await store.upsert("device:old", row("again"));
    assert.equal(await store.remove("device:old", "o1"), false, "the expired row's owner went with it");
    await store.upsert("conn:first", row("first"), { owner: "o2" });
    for (let i = 0; i < PRESENCE_CAP; i++) await store.upsert(`conn:${i}`, row(`c${i}`));
    await store.upsert("conn:first", row("first again"));
    assert.equal(await store.remove("conn:first", "o2"), false, "the evicted row's owner went with it");
  });

  test("operations one caller issues apply in order: a removal is not overtaken by an earlier upsert", async (store) => {
    const [, removed] = await Promise.all([store.upsert("device:y", row("a")), store.remove("device:y")]);
    assert.equal(removed, true);
    assert.deepEqual(await store.list(T0), []);
    await Promise.all([
      store.upsert("device:y", row("a")),
      store.remove("device:y"),
      store.upsert("device:y", row("b")),
    ]);
    assert.deepEqual(await hosts(store), ["b"]);
  });
}
