// The NodeStore contract: every implementation (in-process, Redis) runs these.
import assert from "node:assert/strict";
import type { NodeSession, NodeStore } from "../../lib/state/nodes.ts";
import { type TestClock, testClock } from "./_clock.ts";

const node = (nodeId: string, connId = `c-${nodeId}`, extra: Partial<NodeSession> = {}): NodeSession => ({
  nodeId,
  connId,
  clientId: "openclaw-ios",
  clientMode: "node",
  caps: [],
  commands: [],
  declaredCommands: [],
  connectedAtMs: 1_700_000_000_000,
  ...extra,
});
const ids = async (store: NodeStore) => (await store.list()).map((n) => n.nodeId).sort();

/** Registers the NodeStore contract tests for `name`; `make` returns an empty store on `clock`. */
export function nodesContract(name: string, make: (clock: TestClock) => Promise<NodeStore>): void {
  const test = (what: string, fn: (store: NodeStore, clock: TestClock) => Promise<void>) =>
    Deno.test(`${name} nodes: ${what}`, async () => {
      const clock = testClock();
      await fn(await make(clock), clock);
    });

  test("an empty store has no rows and removes nothing", async (store) => {
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.get("n1"), undefined);
    assert.equal(await store.remove("n1", "c-n1"), false);
  });

  test("a row comes back with every field it was written with", async (store) => {
    const row = node("n1", "c1", {
      displayName: "Phone",
      platform: "iOS 18.1",
      version: "2026.9.6",
      deviceFamily: "iPhone",
      modelIdentifier: "iPhone17,1",
      remoteIp: "203.0.113.5",
      caps: ["camera", "location"],
      commands: ["camera.list", "location.get"],
      declaredCommands: ["camera.list", "camera.snap", "location.get"],
      permissions: { camera: true, location: false },
      pathEnv: "/usr/bin",
    });
    await store.put(row, 60_000);
    assert.deepEqual(await store.get("n1"), row);
    assert.deepEqual(await store.list(), [row]);
  });

  test("a put replaces the row of its node id", async (store) => {
    await store.put(node("n1", "old"), 60_000);
    await store.put(node("n1", "new", { displayName: "again" }), 60_000);
    const rows = await store.list();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.connId, "new");
    assert.equal(rows[0]!.displayName, "again");
  });

  test("only the connection that wrote a row removes it", async (store) => {
    await store.put(node("n1", "old"), 60_000);
    await store.put(node("n1", "new"), 60_000);
    assert.equal(await store.remove("n1", "old"), false, "a late close of the old socket");
    assert.equal((await store.get("n1"))?.connId, "new");
    assert.equal(await store.remove("n1", "new"), true);
    assert.deepEqual(await store.list(), []);
  });

  test(
    "a refresh never lands over a newer connection's row; it rewrites its own or a lapsed one",
    async (store, clock) => {
      await store.put(node("n1", "old"), 60_000);
      await store.put(node("n1", "new"), 60_000);
      assert.equal(await store.refresh(node("n1", "old", { displayName: "stale" }), 60_000), false);
      assert.equal((await store.get("n1"))?.connId, "new", "the superseded socket's refresh wrote nothing");
      assert.equal(await store.refresh(node("n1", "new", { displayName: "fresh" }), 60_000), true);
      assert.equal((await store.get("n1"))?.displayName, "fresh");
      clock.advance(60_001);
      assert.equal(await store.refresh(node("n1", "new"), 60_000), true, "a row that lapsed is written anew");
      assert.equal((await store.get("n1"))?.connId, "new");
    },
  );

  test("rows expire unless put again, and a put restarts the clock", async (store, clock) => {
    await store.put(node("n1"), 1_000);
    await store.put(node("n2"), 1_000);
    clock.advance(800);
    await store.put(node("n2"), 1_000);
    clock.advance(400);
    assert.deepEqual(await ids(store), ["n2"]);
    assert.equal(await store.get("n1"), undefined);
    assert.equal(await store.remove("n1", "c-n1"), false, "an expired row is gone");
    clock.advance(1_000);
    assert.deepEqual(await store.list(), []);
  });

  test("reads are copies: changing one changes nothing stored", async (store) => {
    await store.put(node("n1", "c1", { commands: ["a"] }), 60_000);
    const read = (await store.get("n1"))!;
    read.commands.push("b");
    (await store.list())[0]!.caps.push("x");
    assert.deepEqual(await store.get("n1"), node("n1", "c1", { commands: ["a"] }));
  });
}
