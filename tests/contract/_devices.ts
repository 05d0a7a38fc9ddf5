// The DeviceStore contract: every implementation (in-process, Redis) runs these.
import assert from "node:assert/strict";
import type { DeviceStore, PairedDevice } from "../../lib/state/devices.ts";

const device = (id: string, token: string, extra: Partial<PairedDevice> = {}): PairedDevice => ({
  deviceId: id,
  publicKey: `pk-${id}`,
  role: "operator",
  scopes: ["operator.read"],
  token,
  approvedAt: 1_700_000_000_000,
  ...extra,
});

/** Registers the DeviceStore contract tests for `name`; `make` returns an empty store. */
export function devicesContract(name: string, make: () => Promise<DeviceStore>): void {
  const test = (what: string, fn: (store: DeviceStore) => Promise<void>) =>
    Deno.test(`${name} devices: ${what}`, async () => await fn(await make()));

  test("an empty store knows no device and no token", async (store) => {
    assert.equal(await store.get("abc"), undefined);
    assert.equal(await store.byToken("tok"), undefined);
    assert.equal(await store.byToken(""), undefined);
    assert.deepEqual(await store.list(), []);
  });

  test("a saved pairing is found by id (any case) and by its token", async (store) => {
    const paired = device("abc", "tok-1", { role: "node", scopes: [] });
    await store.save(paired);
    assert.deepEqual(await store.get("abc"), paired);
    assert.deepEqual(await store.get("ABC"), paired);
    assert.deepEqual(await store.byToken("tok-1"), paired);
    assert.equal(await store.byToken("TOK-1"), undefined, "tokens are exact");
    assert.deepEqual(await store.list(), [paired]);
  });

  test("saving a new token for a device retires the old one", async (store) => {
    await store.save(device("abc", "tok-1"));
    await store.save(device("ABC", "tok-2", { scopes: ["operator.read", "operator.write"] }));
    assert.equal(await store.byToken("tok-1"), undefined);
    assert.equal((await store.byToken("tok-2"))?.token, "tok-2");
    assert.deepEqual((await store.get("abc"))?.scopes, ["operator.read", "operator.write"]);
    assert.equal((await store.list()).length, 1);
  });

  test("list keeps first-save order when a pairing is updated", async (store) => {
    await store.save(device("a", "t-a"));
    await store.save(device("b", "t-b"));
    await store.save(device("a", "t-a2"));
    assert.deepEqual((await store.list()).map((d) => d.token), ["t-a2", "t-b"]);
  });

  test("the store keeps its own copy: neither the saved nor a returned object changes it", async (store) => {
    const paired = device("abc", "tok-1");
    await store.save(paired);
    paired.scopes.push("operator.admin");
    paired.role = "node";
    const got = (await store.get("abc"))!;
    try {
      got.scopes.push("operator.admin");
      got.token = "stolen";
    } catch {
      // Frozen objects refuse the write; either way the store must not change.
    }
    const again = (await store.byToken("tok-1"))!;
    assert.deepEqual(again.scopes, ["operator.read"]);
    assert.equal(again.role, "operator");
    assert.equal(again.token, "tok-1");
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
    assert.equal(working[0]!.token, stored.token);
  });
}
