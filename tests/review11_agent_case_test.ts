// Review 11: the look at a key's run (agents/standing-run.ts `endedRun`) compares the run record's agent id
// with the call's. The record keeps the configured id (`Ops`), the call's target carries the id folded to
// lower case from its session key (`ops`): a retry of an agent with capitals in its id is refused as a key
// reused for another request, where it must be answered from its run (as for an agent `main`).
import assert from "node:assert/strict";
import { createClient } from "redis";
import { agentsModule } from "../lib/agents/mod.ts";
import { MemoryIdempotencyStore } from "../lib/state/idempotency.ts";
import { RedisConnection } from "../lib/state/redis/connection.ts";
import { RedisIdempotencyStore } from "../lib/state/redis/idempotency.ts";
import { type GatewayStores, memoryStores } from "../lib/state/stores.ts";
import { redisStores } from "../stores/redis.ts";
import { client, lastAnswer, startGateway, TOKEN } from "./_helpers.ts";
import { IGNORE_WITHOUT_REDIS, startRedisServer } from "./_redis_server.ts";

type Json = Record<string, unknown>;

/** Each namespace keeps this many records: two more keyed calls push a key out. */
const CAP = 2;

/** Runs `k-1` on agent `Ops`, pushes its key out with two more calls, retries it: answered as the first. */
async function retryOnCapitalisedAgent(stores: GatewayStores): Promise<void> {
  const gateway = await startGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      agents: { defaults: { model: { primary: "local/scripted-1" } }, entries: { Ops: { default: true } } },
    },
    stores,
    modules: [agentsModule({ peers: stores.peers })],
  });
  const operator = await client(gateway);
  const agent = (idempotencyKey: string, message: string) =>
    lastAnswer(operator.socket, "agent", { sessionKey: "main", message, idempotencyKey });
  try {
    const first = await agent("k-1", "the first message");
    assert.equal(first.ok, true, JSON.stringify(first));
    for (const key of ["k-2", "k-3"]) assert.equal((await agent(key, key)).ok, true);
    const retry = await agent("k-1", "the first message");
    assert.equal(retry.ok, true, `a retry of the same request is answered: ${JSON.stringify(retry.error)}`);
    assert.deepEqual(retry.payload, first.payload);
  } finally {
    operator.socket.close();
    await gateway.stop();
  }
}

Deno.test("review11: in process, a retry on an agent whose id has capitals is answered from its run", async () => {
  const idempotency = new MemoryIdempotencyStore(() => Date.now(), undefined, CAP);
  await retryOnCapitalisedAgent({ ...memoryStores(), idempotency });
});

Deno.test({
  name: "review11: redis, a retry on an agent whose id has capitals is answered from its run",
  ignore: IGNORE_WITHOUT_REDIS,
  async fn() {
    const server = await startRedisServer();
    const stores = await redisStores({ url: server.url, keyPrefix: "case:" });
    const raw = createClient({ url: server.url });
    await raw.connect();
    try {
      stores.idempotency = new RedisIdempotencyStore(new RedisConnection(raw, "case:"), { maxEntries: CAP });
      await retryOnCapitalisedAgent(stores);
    } finally {
      await raw.close();
      await stores.close();
      await server.stop();
    }
  },
});
