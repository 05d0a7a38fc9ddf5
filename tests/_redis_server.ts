// A throwaway redis-server (Debian's) on a free loopback port with a temp dir (no persistence unless asked), for
// tests of the Redis stores, and the start and close every such test shares (`redisTest`, `testRedis`).
// `REDIS_SERVER` is where it is, undefined when it is not installed.
import { createClient } from "redis";
import { type GatewayStores, memoryStores } from "../lib/state/stores.ts";
import { type RedisStores, redisStores, type RedisStoresOptions } from "../stores/redis.ts";
import { findBinary, spawnIn, untilListening } from "./_daemon.ts";
import { freePort } from "./_runner_process.ts";

/**
 * The redis-server binary, if installed; `OPENCLAW_TEST_REDIS_SERVER` names another server that speaks the
 * same protocol and takes the same flags (`valkey-server`), for running the Redis tests against it.
 */
export const REDIS_SERVER = Deno.env.get("OPENCLAW_TEST_REDIS_SERVER") ||
  findBinary("redis-server", ["/usr/bin", "/usr/local/bin", "/usr/sbin"]);

/**
 * The `ignore` of a test that needs redis-server: skipped where it is not installed, except in CI, which
 * installs it (.ci/run), so that there a missing server fails the test instead of skipping it unseen.
 */
export const IGNORE_WITHOUT_REDIS = !REDIS_SERVER && !Deno.env.get("CI");

/** A running server: its URL, and `stop()` that ends it and removes its dir (once, however often called). */
export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

/** How a test's server persists: not at all (the default), or an AOF fsync'd before every reply. */
export interface RedisServerOptions {
  /** `always`: `appendonly yes` + `appendfsync always`, so an acknowledged write is on disk. */
  appendfsync?: "always" | "everysec";
  /** Another server binary that takes redis-server's flags (a `valkey-server`); `REDIS_SERVER` by default. */
  server?: string;
}

/** Starts a redis-server (on `port`, a free one by default) and resolves once it accepts connections. */
export async function startRedisServer(
  port = freePort(),
  options: RedisServerOptions = {},
): Promise<RedisServer> {
  const binary = options.server ?? REDIS_SERVER;
  if (!binary) throw new Error("redis-server is not installed (apt-get install redis-server)");
  const dir = await Deno.makeTempDir({ prefix: "openclaw-redis-" });
  const { stop } = spawnIn(dir, binary, redisArgs(port, dir, options.appendfsync));
  await untilListening("redis-server", port, stop);
  return { url: `redis://127.0.0.1:${port}`, stop };
}

/** redis-server's flags for loopback `port` and data in `dir`: no snapshots, an AOF only with `appendfsync`. */
function redisArgs(port: number, dir: string, appendfsync?: "always" | "everysec"): string[] {
  const persistence = appendfsync
    ? ["--appendonly", "yes", "--appendfsync", appendfsync]
    : ["--appendonly", "no"];
  return ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", ...persistence];
}

/** A server whose data outlives it: `kill()` ends the process (SIGKILL by default) and leaves `dir`. */
export interface DurableRedisServer {
  url: string;
  kill(signal?: Deno.Signal): Promise<void>;
}

/**
 * Starts a redis-server on `port` that keeps its data in `dir` with an append-only file fsynced on every
 * write, so a server killed and started again on the same dir and port has every acknowledged write.
 */
export async function startDurableRedisServer(dir: string, port: number): Promise<DurableRedisServer> {
  if (!REDIS_SERVER) throw new Error("redis-server is not installed (apt-get install redis-server)");
  const child = new Deno.Command(REDIS_SERVER, {
    args: redisArgs(port, dir, "always"),
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const kill = async (signal: Deno.Signal = "SIGKILL") => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    await child.status;
  };
  await untilListening("redis-server", port, kill);
  return { url: `redis://127.0.0.1:${port}`, kill };
}

/**
 * One test's server and what the test opened on it: disposing it (`await using`) closes the store bundles
 * and raw clients, then stops the server, whether the test passed or threw.
 */
export interface TestRedis extends AsyncDisposable {
  /** The server's `redis://127.0.0.1:<port>` URL. */
  url: string;
  /** A store bundle on this server (`options.url` may name another way to it, e.g. a relay). */
  stores(options?: Partial<RedisStoresOptions>): Promise<RedisStores>;
  /** A connected node-redis client on this server (or on `url`), for what a test reads or breaks behind the stores. */
  client(url?: string): Promise<ReturnType<typeof createClient>>;
}

/** Starts a redis-server for one test (see {@link startRedisServer} for the options); use with `await using`. */
export async function testRedis(options: RedisServerOptions = {}): Promise<TestRedis> {
  const server = await startRedisServer(freePort(), options);
  // Disposed newest first, so the server stops last. A test may close what it opened itself first (a
  // bundle's close may be repeated; a client's may not).
  const opened = new AsyncDisposableStack();
  opened.defer(() => server.stop());
  return {
    url: server.url,
    async stores(storeOptions = {}) {
      const stores = await redisStores({ url: server.url, ...storeOptions });
      opened.defer(() => stores.close());
      return stores;
    },
    async client(url = server.url) {
      const client = createClient({ url });
      await client.connect();
      opened.defer(async () => {
        if (client.isOpen) await client.close();
      });
      return client;
    },
    [Symbol.asyncDispose]: () => opened.disposeAsync(),
  };
}

/**
 * A test that needs redis-server (ignored as {@link IGNORE_WITHOUT_REDIS} says): `fn` runs with a server of
 * its own, started with `options` and disposed when `fn` ends.
 */
export function redisTest(name: string, fn: (redis: TestRedis) => Promise<void>): void;
export function redisTest(
  name: string,
  options: RedisServerOptions,
  fn: (redis: TestRedis) => Promise<void>,
): void;
export function redisTest(
  name: string,
  ...args: [(redis: TestRedis) => Promise<void>] | [RedisServerOptions, (redis: TestRedis) => Promise<void>]
): void {
  const [options, fn] = args.length === 1 ? [{}, args[0]] : args;
  Deno.test({ name, ignore: IGNORE_WITHOUT_REDIS }, async () => {
    await using redis = await testRedis(options);
    await fn(redis);
  });
}

/**
 * Registers `scenario` as two tests, one per backend: first its two replicas share one memory bundle, then
 * each has a bundle of its own on a throwaway redis-server, under `keyPrefix`.
 */
export function onMemoryAndRedis(
  names: { memory: string; redis: string },
  keyPrefix: string,
  scenario: (a: GatewayStores, b: GatewayStores) => Promise<void>,
): void {
  Deno.test(names.memory, () => {
    const stores = memoryStores();
    return scenario(stores, stores);
  });
  redisTest(names.redis, async (redis) => {
    const [a, b] = await Promise.all([1, 2].map(() => redis.stores({ keyPrefix })));
    await scenario(a, b);
  });
}
