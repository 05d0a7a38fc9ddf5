// Cross-replica defects: a turn whose session another replica is running is acknowledged at once and
// runs when that replica lets go; a replica's own presence row lives while the replica does, not forever.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import type { PresenceEntry } from "../lib/state/presence.ts";
import { memoryStores } from "../lib/state/stores.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";
import { redisTest } from "./_redis_server.ts";

const config = {
  gateway: { auth: { mode: "token" as const, token: TOKEN } },
  agents: { defaults: { model: { primary: "local/scripted-1" } } },
};

Deno.test("chat.send is answered at once while another replica holds the session's lease; the turn runs after", async () => {
  const stores = memoryStores();
  const gateway = await startGateway({ config, stores, modules: [agentsModule()] });
  try {
    // Another replica (sharing these stores) is running a turn of the session.
    const lease = await stores.leases.acquire("session:agent:main:main", "other-replica", 60_000);
    assert.ok(lease);
    const sender = await client(gateway);
    const sent = sender.request("chat.send", { sessionKey: "main", message: "queued", idempotencyKey: "k1" });
    const answered = await Promise.race([
      sent,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1_000)),
    ]);
    assert.ok(answered, "the ack waited for the other replica's turn");
    assert.deepEqual(answered.payload, { runId: "k1", status: "started" });
    const history = await sender.request("chat.history", { sessionKey: "main" });
    assert.deepEqual((history.payload as { messages: unknown[] }).messages, [], "nothing ran yet");

    await stores.leases.release("session:agent:main:main", lease);
    const final = (f: Frame) =>
      f.event === "chat" && (f.payload as { runId: string; state: string }).runId === "k1" &&
      (f.payload as { state: string }).state === "final";
    await (sender.socket.skipped.find(final) ?? sender.socket.waitFor(final));
    const after = await sender.request("chat.history", { sessionKey: "main" });
    assert.equal((after.payload as { messages: unknown[] }).messages.length, 2);
  } finally {
    await gateway.stop();
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const selfRow = (host: string): PresenceEntry => ({ host, mode: "gateway", reason: "self", ts: Date.now() });

redisTest(
  "a replica's own presence row stays while it renews it and lapses once it died without removing it",
  async (redis) => {
    const options = { keyPrefix: "self-rows:", pinnedPresenceTtlMs: 600 };
    const a = await redis.stores(options);
    const b = await redis.stores(options);
    const hosts = async () => (await b.presence.list(Date.now())).map((row) => row.host);
    await a.presence.upsert("self:a", selfRow("a"), { pinned: true });
    await b.presence.upsert("self:b", selfRow("b"), { pinned: true });
    await sleep(1_500);
    assert.deepEqual(await hosts(), ["a", "b"], "renewed rows outlive their TTL");
    // Closing a's bundle stops its renewals and leaves its row behind, as a SIGKILL does.
    await a.close();
    await sleep(1_000);
    assert.deepEqual(await hosts(), ["b"], "the dead replica's row lapsed");
  },
);
