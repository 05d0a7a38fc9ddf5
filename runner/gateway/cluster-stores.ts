/**
 * Which stores `gateway run` gives each gateway it starts. With a Redis URL (`OPENCLAW_REDIS_URL`, else
 * `gateway.cluster.redis.url`) it is the Redis bundle every replica shares, opened once and kept across
 * restarts that leave the URL and key prefix alone; without one, the JSONL stores, the JSON documents (cron
 * jobs, channel pairing) and the device pairings (`devices/pairing.json`) under the state dir, and
 * in-process stores for the rest.
 *
 * @module
 */
import { GatewayError } from "../../lib/errors.ts";
import { jsonlLogStores } from "../../lib/state/jsonl-logs.ts";
import type { GatewayConfig } from "../../lib/config/schema.ts";
import { resolveSecrets } from "../../lib/config/secrets.ts";
import type { Logger } from "../../lib/log/logger.ts";
import { type JsonDocs, jsonDocsOnFiles } from "../../lib/state/json-docs.ts";
import type { GatewayStores } from "../../lib/state/stores.ts";
import type { RedisStores } from "../../lib/state/redis/stores.ts";
import { DocsDeviceStore } from "../../lib/state/device-docs.ts";
import { hostSecretResolvers } from "../config/secret-providers.ts";
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
  if (!url) return undefined;
  // The config's schema checks a literal URL; the environment's and a SecretRef's value get checked here.
  if (!REDIS_URL.test(url)) {
    throw new GatewayError("INVALID_REQUEST", `${urlSource(env)} is not a redis:// or rediss:// URL`);
  }
  return { url, keyPrefix: cluster?.keyPrefix ?? "openclaw:" };
}

const REDIS_URL = /^rediss?:\/\/./;

/** Where the Redis URL in use was set, for the errors that name it. */
function urlSource(env: Record<string, string | undefined>): string {
  return env.OPENCLAW_REDIS_URL ? "OPENCLAW_REDIS_URL" : "gateway.cluster.redis.url";
}

/** Hands out the stores for each applied config and owns the Redis connections. */
export class ClusterStores {
  #redis?: { target: string; stores: Promise<RedisStores> };
  /** Documents under the state dir; one copy for every gateway this process starts, so none reads them stale. */
  readonly #docs: JsonDocs;
  /** Pairings in those documents. */
  readonly #devices: DocsDeviceStore;

  /** JSONL stores go under `stateDir`; `log` hears Redis connection errors. */
  constructor(
    private readonly stateDir: string,
    private readonly env: Record<string, string | undefined>,
    private readonly log: Logger,
  ) {
    this.#docs = jsonDocsOnFiles(stateDir, denoStoreFiles);
    this.#devices = new DocsDeviceStore(this.#docs);
  }

  /** The stores a gateway running `config` (secrets resolved) gets. */
  async storesFor(config: GatewayConfig): Promise<Partial<GatewayStores>> {
    const target = clusterTarget(config, this.env);
    if (!target) {
      await this.close();
      return { ...jsonlLogStores(this.stateDir, denoStoreFiles), docs: this.#docs, devices: this.#devices };
    }
    const key = JSON.stringify(target);
    if (this.#redis?.target !== key) {
      await this.close();
      const onError = (error: unknown) => this.log.warn("redis", { error: String(error) });
      // Loaded only here: a gateway without a cluster never loads the Redis client.
      const stores = import("../../lib/state/redis/stores.ts").then(({ redisStores }) =>
        redisStores({ ...target, onError }).catch((error: unknown) => {
          throw error instanceof GatewayError
            ? new GatewayError(error.code, `${error.message} (the URL is from ${urlSource(this.env)})`, error)
            : error;
        })
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

/**
 * Runs `use` over the channel state (pairing requests, approved senders) that a gateway of the authored
 * `config` uses: the documents on its Redis in a cluster, else the files under `stateDir`. For the CLI
 * (`openclaw pairing`), which works without a running gateway.
 */
export async function withChannelState<T>(
  config: GatewayConfig,
  host: { env: Record<string, string | undefined>; home: string; stateDir: string },
  use: (docs: JsonDocs) => Promise<T>,
): Promise<T> {
  // Only the URL's SecretRef is resolved: the rest of the config's secrets are no business of this command.
  const cluster = { ...config.gateway?.cluster, redis: { url: config.gateway?.cluster?.redis?.url } };
  const resolved = await resolveSecrets({ secrets: config.secrets, gateway: { cluster } }, {
    resolvers: hostSecretResolvers(host.env, host.home),
  });
  const target = clusterTarget(resolved.config as GatewayConfig, host.env);
  if (!target) return await use(jsonDocsOnFiles(host.stateDir, denoStoreFiles));
  const { redisStores } = await import("../../lib/state/redis/stores.ts");
  const stores = await redisStores({ ...target, onError: () => {} });
  try {
    return await use(stores.docs);
  } finally {
    await stores.close();
  }
}
