// `health` (and every hello-ok) summarises the sessions: the list is read from the store again only after
// a `sessions.changed` or once it is a second old, not on every call (a round trip per call on Redis).
import assert from "node:assert/strict";
import { agentsModule, memoryStores } from "../mod.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";

Deno.test("health reads the session list once for many calls, and again after a session changed", async () => {
  const stores = memoryStores();
  let lists = 0;
  const list = stores.sessions.list.bind(stores.sessions);
  stores.sessions.list = () => (lists++, list());
  const gateway = await startGateway({
    stores,
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    modules: [agentsModule()],
  });
  try {
    const c = await client(gateway);
    const before = lists;
    for (let i = 0; i < 20; i++) assert.equal((await c.request("health", {})).ok, true);
    assert.ok(lists - before <= 1, `20 health calls read the list ${lists - before} times`);

    const sent = await c.request("chat.send", { sessionKey: "main", message: "hi", idempotencyKey: "k1" });
    const runId = (sent.payload as { runId: string }).runId;
    await c.request("agent.wait", { runId, timeoutMs: 5_000 });
    const health = (await c.request("health", {})).payload as { sessions: { count: number } };
    assert.equal(
      health.sessions.count,
      1,
      "the new session shows at once: its sessions.changed dropped the list",
    );
  } finally {
    await gateway.stop();
  }
});
