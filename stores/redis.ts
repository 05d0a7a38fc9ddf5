/**
 * Stores on Redis/Valkey (`@openclaw-ts/gateway/stores/redis`): replicas of one gateway that open the
 * same server and key prefix share every piece of state and the event bus. Built on node-redis, which runs
 * on Deno and Node alike.
 *
 * @example Two replicas over one Redis
 * ```ts
 * import { createGateway, type Gateway, memoryTransport } from "@openclaw-ts/gateway";
 * import { redisStores } from "@openclaw-ts/gateway/stores/redis";
 *
 * // Every replica runs this with the same URL and key prefix.
 * async function replica(
 *   url: string,
 *   onError: (error: unknown) => void = console.error,
 * ): Promise<{ gateway: Gateway; stop(): Promise<void> }> {
 *   const stores = await redisStores({ url, keyPrefix: "openclaw:", onError });
 *   const gateway = createGateway({
 *     transport: memoryTransport(),
 *     stores,
 *     config: { gateway: { auth: { token: "s3cret" } } },
 *   });
 *   await gateway.start();
 *   return { gateway, stop: async () => (await gateway.stop(), await stores.close()) };
 * }
 *
 * // With a server, each replica calls `replica("redis://redis.internal:6379")`. Without one, the
 * // first connection attempt fails the start rather than waiting for a server:
 * const heard: unknown[] = [];
 * const refused = await replica("redis://127.0.0.1:1", (error) => heard.push(error))
 *   .then(() => undefined, (error: Error) => error);
 * if (!refused || heard.length === 0) throw new Error("a gateway started without its Redis");
 * ```
 *
 * @module
 */
export { type RedisStores, redisStores, type RedisStoresOptions } from "../lib/state/redis/stores.ts";
export { RedisJsonDocs } from "../lib/state/redis/json-docs.ts";
export { RedisPeerRegistry } from "../lib/state/redis/peers.ts";
export { REDIS_RETRY_AFTER_MS, REDIS_UNAVAILABLE } from "../lib/state/redis/unavailable.ts";
