// Review 9: a keyed `agent` call whose claim follows a lapsed one looks at its key's run, then confirms its
// claim (CONFIRM). Should another call take the key over meanwhile, the confirm answers false: the call must
// answer with a retryable error and leave nothing (no line, no run record), as its claim is not its own.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { redisStores } from "../stores/redis.ts";
import { client, historyText, lastAnswer, scriptedGateway } from "./_helpers.ts";
import { IGNORE_WITHOUT_REDIS, startRedisServer } from "./_redis_server.ts";

type Json = Record<string, unknown>;

Deno.test({
  name:
    "review9: a call whose lapsed claim was taken over during its look answers a retryable error, leaving nothing",
  ignore: IGNORE_WITHOUT_REDIS,
  async fn() {
    const server = await startRedisServer();
    const stores = await redisStores({ url: server.url, keyPrefix: "take:" });
    const raw = createClient({ url: server.url });
    await raw.connect();
    let steal = false;
    const get = stores.runs.get.bind(stores.runs);
    stores.runs.get = async (runId) => {
      if (steal && runId === "k-take") {
        steal = false;
        // Another call (a second retry, on another replica) holds the key now.
        await raw.set("take:idempotency:rpc:k-take", JSON.stringify({ fingerprint: "x", owner: "other:1" }));
        return undefined;
      }
      return await get(runId);
    };
    const gateway = await scriptedGateway(stores);
    const operator = await client(gateway);
    const agent = (idempotencyKey: string, message: string) =>
      lastAnswer(operator.socket, "agent", { sessionKey: "main", message, idempotencyKey });
    const history = async () =>
      ((await operator.request("chat.history", { sessionKey: "main" })).payload as { messages: [] }).messages
        .map(historyText);
    try {
      assert.equal(((await agent("k-before", "before")).payload as Json).status, "ok");
      // A first call of the key, whose replica died with nothing recorded: the key stays in the order.
      assert.equal(((await agent("k-take", "first try")).payload as Json).status, "ok");
      await raw.del(["take:idempotency:rpc:k-take", "take:run:k-take"]);
      const before = await history();
      steal = true;
      const answer = await agent("k-take", "first try");
      assert.equal(answer.ok, false, JSON.stringify(answer));
      const error = answer.error as { code: string; retryable?: boolean };
      assert.deepEqual([error.code, error.retryable], ["UNAVAILABLE", true], JSON.stringify(error));
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await history(), before, "no line of the call whose claim is not its own");
      assert.equal(await raw.get("take:run:k-take"), null, "no run record of it");
      assert.equal(
        JSON.parse((await raw.get("take:idempotency:rpc:k-take"))!).owner,
        "other:1",
        "the other call's claim is left alone",
      );
    } finally {
      operator.socket.close();
      await gateway.stop();
      await raw.close();
      await stores.close();
      await server.stop();
    }
  },
});
