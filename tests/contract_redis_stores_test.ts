// Every store contract suite against the Redis implementations, on a redis-server this file starts (and
// stops) itself. Each store gets a key prefix of its own, so tests never see each other's keys, and two
// bundles over one prefix stand for two replicas over one Redis.
import { type RedisStores, redisStores } from "../stores/redis.ts";
import { busContract } from "./contract/_bus.ts";
import type { TestClock } from "./contract/_clock.ts";
import { devicesContract } from "./contract/_devices.ts";
import { idempotencyContract } from "./contract/_idempotency.ts";
import { leasesContract } from "./contract/_leases.ts";
import { presenceContract } from "./contract/_presence.ts";
import { rateLimitContract } from "./contract/_rate_limit.ts";
import { replicasContract } from "./contract/_replicas.ts";
import { runsContract } from "./contract/_runs.ts";
import { sessionsContract } from "./contract/_sessions.ts";
import { stateVersionContract } from "./contract/_state_version.ts";
import { transcriptsContract } from "./contract/_transcripts.ts";
import { REDIS_SERVER, type RedisServer, startRedisServer } from "./_redis_server.ts";

// CI installs redis-server (.ci/run): there a missing one fails instead of skipping.
if (!REDIS_SERVER && !Deno.env.get("CI")) {
  console.warn(
    "skipping the Redis store contracts: redis-server is not installed (apt-get install redis-server)",
  );
  Deno.test({ name: "Redis store contracts (redis-server not installed)", ignore: true, fn() {} });
} else {
  const server: RedisServer = await startRedisServer();
  Deno.test.afterAll(() => server.stop());

  // Every bundle a test opened is closed after it, so no connection outlives its test.
  const open: RedisStores[] = [];
  Deno.test.afterEach(async () => {
    for (const stores of open.splice(0)) await stores.close();
  });
  let prefixes = 0;
  const bundle = async (
    clock?: TestClock,
    keyPrefix = `test${++prefixes}:`,
    onError?: (error: unknown) => void,
  ) => {
    const stores = await redisStores({ url: server.url, keyPrefix, now: clock?.now, onError });
    open.push(stores);
    return stores;
  };
  const onClock = (now: () => number) => bundle({ now, advance: () => {} });

  presenceContract("redis", async () => (await bundle()).presence);
  devicesContract("redis", async () => (await bundle()).devices);
  idempotencyContract("redis", async (clock) => (await bundle(clock)).idempotency);
  rateLimitContract("redis", async (clock) => (await bundle(clock)).rateLimits);
  stateVersionContract("redis", async () => (await bundle()).stateVersions);
  sessionsContract("redis", async () => (await bundle()).sessions);
  transcriptsContract("redis", async () => (await bundle()).transcripts);
  runsContract("redis", async (now) => (await onClock(now)).runs);
  leasesContract("redis", async (now) => (await onClock(now)).leases);
  // The bus contract has a listener throw on purpose: what the bus reports is expected, not printed.
  busContract("redis", async () => (await bundle(undefined, undefined, () => {})).bus);

  // Two bundles over one prefix: two replicas over one Redis.
  replicasContract("redisStores()", async () => {
    const keyPrefix = `test${++prefixes}:`;
    return [await bundle(undefined, keyPrefix), await bundle(undefined, keyPrefix)];
  });
}
