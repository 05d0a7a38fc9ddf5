/**
 * Which stores `gateway run` gives each gateway it starts. With a Redis URL (`OPENCLAW_REDIS_URL`, else
 * `gateway.cluster.redis.url`) it is the Redis bundle every replica shares, opened once and kept across
 * restarts that leave the URL and key prefix alone; without one, the JSONL stores under the state dir and
 * in-process stores for the rest, as before.
 *
 * @module
 */
import { jsonlLogStores } from "../../lib/state/jsonl-logs.ts";
import type { GatewayConfig } from "../../lib/config/schema.ts";
import type { Logger } from "../../lib/log/logger.ts";
import type { GatewayStores } from "../../lib/state/stores.ts";
import type { RedisStores } from "../../lib/state/redis/stores.ts";
import { denoStoreFiles } from "./deno-store-files.ts";

/** The Redis a config (and the environment) points the gateway at. */
export interface ClusterTarget {
  url: string;
  keyPrefix: string;
}

/** The Redis to share state through, or undefined for a single process; the env's URL wins. */
export function clusterTarget(
  config: GatewayConfig,
  env: Record<string, string | undefined>,
): ClusterTarget | undefined {
  const cluster = config.gateway?.cluster;
  // A SecretRef was resolved to its string before the config got here.
  const configured = typeof cluster?.redis?.url === "string" ? cluster.redis.url : undefined;
  const url = env.OPENCLAW_REDIS_URL || configured;
  return url ? { url, keyPrefix: cluster?.keyPrefix ?? "openclaw:" } : undefined;
}

/** Hands out the stores for each applied config and owns the Redis connections. */
export class ClusterStores {
  #redis?: { target: string; stores: Promise<RedisStores> };

  /** JSONL stores go under `stateDir`; `log` hears Redis connection errors. */
  constructor(
    private readonly stateDir: string,
    private readonly env: Record<string, string | undefined>,
    private readonly log: Logger,
  ) {}

  /** The stores a gateway running `config` (secrets resolved) gets. */
  async storesFor(config: GatewayConfig): Promise<Partial<GatewayStores>> {
    const target = clusterTarget(config, this.env);
    if (!target) {
      await this.close();
      return jsonlLogStores(this.stateDir, denoStoreFiles);
    }
    const key = JSON.stringify(target);
    if (this.#redis?.target !== key) {
      await this.close();
      const onError = (error: unknown) => this.log.warn("redis", { error: String(error) });
      // Loaded only here: a gateway without a cluster never loads the Redis client.
      const stores = import("../../lib/state/redis/stores.ts").then(({ redisStores }) =>
        redisStores({ ...target, onError })
      );
      this.#redis = { target: key, stores };
      // A server that could not be reached is tried again by the next start, not remembered as down.
      stores.catch(() => this.#redis?.stores === stores && (this.#redis = undefined));
    }
    return await this.#redis.stores;
  }

  /** Closes the Redis connections, if any are open. */
  async close(): Promise<void> {
    const open = this.#redis;
    this.#redis = undefined;
    await (await open?.stores.catch(() => undefined))?.close();
  }
}
