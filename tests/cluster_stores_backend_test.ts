// The stores bundle names its backend, and `clusterModule()` shows that one when it is given none: an
// embedder that opens Redis stores (the `./stores/redis` example) sees `redis` in `status.cluster`.
import assert from "node:assert/strict";
import { clusterModule, completeStores, createGateway, type GatewayStores, memoryStores } from "../mod.ts";
import { redisTest } from "./_redis_server.ts";
import { TOKEN } from "./_helpers.ts";

async function clusterStatus(stores: Partial<GatewayStores>): Promise<Record<string, unknown>> {
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    stores,
    modules: [clusterModule()],
  });
  await gateway.start();
  try {
    return ((await gateway.call("status", {})) as { cluster: Record<string, unknown> }).cluster;
  } finally {
    await gateway.stop();
  }
}

redisTest(
  "clusterModule() over Redis stores shows the redis backend, its URL, prefix and link",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "label:", onError: () => {} });
    assert.equal(stores.backend?.kind, "redis");
    const cluster = await clusterStatus(stores);
    assert.equal(cluster.backend, "redis");
    assert.deepEqual(cluster.redis, { url: redis.url, keyPrefix: "label:", connected: true });
  },
);

Deno.test("in-process stores say so, and a given backend still wins over the bundle's", async () => {
  assert.deepEqual(memoryStores().backend, { kind: "in-process" });
  assert.deepEqual(completeStores({}).backend, { kind: "in-process" });
  assert.equal((await clusterStatus(memoryStores())).backend, "in-process");
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    stores: { backend: { kind: "redis", url: "redis://bundle", keyPrefix: "b:", connected: () => false } },
    modules: [clusterModule({ backend: { kind: "in-process" } })],
  });
  await gateway.start();
  try {
    const { cluster } = (await gateway.call("status", {})) as { cluster: Record<string, unknown> };
    assert.equal(cluster.backend, "in-process");
  } finally {
    await gateway.stop();
  }
});
