/**
 * Stores on Redis/Valkey (`@openclaw-ts/gateway/stores/redis`): replicas of one gateway that open the
 * same server and key prefix share every piece of state and the event bus. Built on node-redis, which runs
 * on Deno and Node alike.
 *
 * @example Two replicas over one Redis
 * ```ts ignore
 * import { createGateway, memoryTransport } from "@openclaw-ts/gateway";
 * import { redisStores } from "@openclaw-ts/gateway/stores/redis";
 *
 * const stores = await redisStores({ url: "redis://127.0.0.1:6379", keyPrefix: "openclaw:" });
 * const gateway = createGateway({ transport: memoryTransport(), stores, config: {} });
 * await gateway.start();
 * // ...
 * await gateway.stop();
 * await stores.close();
 * ```
 *
 * @module
 */
export { type RedisStores, redisStores, type RedisStoresOptions } from "../lib/state/redis/stores.ts";
export { RedisJsonDocs } from "../lib/state/redis/json-docs.ts";
export { RedisPeerRegistry } from "../lib/state/redis/peers.ts";
export { REDIS_RETRY_AFTER_MS, REDIS_UNAVAILABLE } from "../lib/state/redis/unavailable.ts";
