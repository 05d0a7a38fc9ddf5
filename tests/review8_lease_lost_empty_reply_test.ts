// Review 8: `TurnExecutor.#finish` turns a lease lost before the reply's writes into a lease-lost error;
// the guarded end publish refuses an "ok" end then. A turn whose model answered with no text and no tool
// call has no reply line to append, so its (refused) row write and its refused guarded publish are both
// ignored, and its "ok" final goes out, published as the fallback, though another replica holds the session.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { sessionLeaseKey } from "../lib/agents/session-lease.ts";
import type { ModelProvider } from "../lib/providers/types.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { completeStores, type GatewayStores, memoryStores } from "../lib/state/stores.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";
import { redisTest } from "./_redis_server.ts";

const SESSION = "agent:main:main";

/**
 * Runs two `chat.send` turns on `stores` with a model that answers nothing, the second after `steal` took the
 * session's lease from under it (inside the model call); resolves with each turn's end state.
 */
async function emptyReplyTurns(stores: GatewayStores, steal: () => Promise<void>): Promise<string[]> {
  let stealing = false;
  const provider: ModelProvider = {
    id: "rec",
    api: "test",
    async *streamChat() {
      if (stealing) await steal();
      yield { type: "finish", finishReason: "stop" };
    },
    completeChat: () => Promise.reject(new Error("not used")),
    embed: () => Promise.reject(new Error("not used")),
    listModels: () => Promise.resolve([]),
  };
  const gateway = await startGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      agents: { defaults: { model: "rec/m" } },
    },
    stores,
    modules: [agentsModule({ providers: { rec: provider } })],
  });
  const sender = await client(gateway);
  try {
    const end = async (runId: string) => {
      assert.equal(
        (await sender.request("chat.send", { sessionKey: "main", message: runId, idempotencyKey: runId })).ok,
        true,
      );
      const isEnd = (f: Frame) =>
        f.event === "chat" && (f.payload as { runId?: string; state?: string }).runId === runId &&
        (f.payload as { state?: string }).state !== "delta";
      // On Redis, the sender may hear the end before the call's answer (which waits for the write of the
      // call's outcome): the answer's wait set it aside.
      const frame = sender.socket.skipped.find(isEnd) ?? await sender.socket.waitFor(isEnd);
      return (frame.payload as { state: string }).state;
    };
    const before = await end("before");
    stealing = true;
    return [before, await end("stolen")];
  } finally {
    sender.socket.close();
    await gateway.stop();
  }
}

redisTest(
  "review8: a turn whose lease was taken while its model answered nothing ends in an error, not an ok final",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "empty:" });
    const raw = await redis.client();
    const states = await emptyReplyTurns(stores, async () => {
      // Its lease expired unnoticed (a stalled loop) and another replica took the session.
      await raw.del(`empty:lease:${sessionLeaseKey(SESSION)}`);
      assert.ok(await stores.leases.acquire(sessionLeaseKey(SESSION), "thief/1", 60_000));
    });
    assert.deepEqual(
      states,
      ["final", "error"],
      "the thief holds the session: this turn's writes were refused",
    );
  },
);

Deno.test("review8: on the in-process stores too, a turn whose lease lapsed while its model answered nothing ends in an error", async () => {
  let skew = 0;
  const stores = memoryStores({ now: () => Date.now() + skew });
  const states = await emptyReplyTurns(stores, async () => {
    // Its lease ran out unnoticed (a stalled loop) and another gateway on the bundle took the session.
    skew += 10 * 60_000;
    assert.ok(await stores.leases.acquire(sessionLeaseKey(SESSION), "thief/1", 60 * 60_000));
  });
  assert.deepEqual(states, ["final", "error"], "the other gateway holds the session: the row was refused");
  const row = await stores.sessions.get(SESSION);
  assert.equal(row?.lastRunId, "before", "the refused turn left the session's row alone");
});

Deno.test("review8: completeStores given other leases keeps default sessions that do not guard with its own", () => {
  assert.ok(completeStores({}).sessions.recordRunIfHeld, "guarded over the default leases");
  assert.equal(completeStores({ leases: memoryStores().leases }).sessions.recordRunIfHeld, undefined);
});
