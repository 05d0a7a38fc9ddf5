// Cross-replica defects of the session lease: a turn whose session another replica is running is
// acknowledged at once and runs when that replica lets go.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { memoryStores } from "../lib/state/stores.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";

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
