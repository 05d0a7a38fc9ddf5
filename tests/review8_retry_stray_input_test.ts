// Review 8: a keyed `agent` call sent again once its claim lapsed, whose run ended ok, is answered from
// that run and "starts nothing": the turn started ahead of the look is a duplicate "which leaves no
// trace". But its claim is won on Redis (a fresh claim), so the input's append sent with the lease
// attempt passes the claim guard; it is skipped only when the run's input is among the transcript's
// last SAVED_INPUT_WINDOW lines. In a session that moved on since (more turns), the retry's message
// lands in the transcript again, with no reply after it.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { SAVED_INPUT_WINDOW } from "../lib/state/sessions.ts";
import { redisStores } from "../stores/redis.ts";
import { client, historyText, lastAnswer, scriptedGateway } from "./_helpers.ts";
import { IGNORE_WITHOUT_REDIS, startRedisServer } from "./_redis_server.ts";

type Json = Record<string, unknown>;

Deno.test({
  name:
    "review8: a retry answered from its ended run leaves no second copy of its message in a session that moved on",
  ignore: IGNORE_WITHOUT_REDIS,
  async fn() {
    const server = await startRedisServer();
    const stores = await redisStores({ url: server.url, keyPrefix: "stray:" });
    const gateway = await scriptedGateway(stores);
    const operator = await client(gateway);
    const agent = async (idempotencyKey: string, message: string) =>
      (await lastAnswer(operator.socket, "agent", { sessionKey: "main", message, idempotencyKey }))
        .payload as Json;
    const history = async () =>
      ((await operator.request("chat.history", { sessionKey: "main" })).payload as { messages: [] }).messages
        .map(historyText);
    try {
      const first = await agent("k-ran", "the retried message");
      assert.equal(first.status, "ok", JSON.stringify(first));
      // The session goes on: the call's input is no longer among its last lines.
      for (let i = 0; i < SAVED_INPUT_WINDOW / 2 + 1; i++) {
        assert.equal((await agent(`k-later-${i}`, `later ${i}`)).status, "ok");
      }
      const before = await history();
      // Its replica died and its claim lapsed: the key's record is gone, its run's stays.
      const raw = createClient({ url: server.url });
      await raw.connect();
      assert.equal(await raw.del("stray:idempotency:rpc:k-ran"), 1);
      await raw.close();
      const again = await agent("k-ran", "the retried message");
      assert.deepEqual(again, first, "answered from the run that ended");
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await history(), before, "the retry left no line in the transcript");
    } finally {
      operator.socket.close();
      await gateway.stop();
      await stores.close();
      await server.stop();
    }
  },
});
