/**
 * The stores bundle on Redis/Valkey: every replica that opens it with the same URL and key prefix shares
 * presence, pairings, keyed outcomes, rate limits, state versions, sessions, transcripts, runs, leases,
 * response sessions, connected nodes, queued system events, waiting turns, JSON documents (cron jobs, channel
 * pairing), the peers registry and the event bus.
 *
 * @module
 */
import { createClient } from "redis";
import { GatewayError } from "../../errors.ts";
import type { GatewayStores } from "../stores.ts";
import { RedisEventBus } from "./bus.ts";
import { type LuaScript, type RedisClient, RedisConnection } from "./connection.ts";
import { RedisDeviceStore } from "./devices.ts";
import { RedisExecApprovalStore } from "./exec-approvals.ts";
import { ChangeFeed } from "./feed.ts";
import { RedisIdempotencyStore } from "./idempotency.ts";
import { RedisJsonDocs } from "./json-docs.ts";
import { RedisPeerRegistry } from "./peers.ts";
import { RedisLeaseStore } from "./leases.ts";
import { RedisNodeStore } from "./nodes.ts";
import { RedisPresenceStore } from "./presence.ts";
import { RedisRateLimitStore } from "./rate-limit.ts";
import { RedisResponseSessionStore } from "./response-sessions.ts";
import { RedisRunStore } from "./runs.ts";
import { RedisSessionStore } from "./sessions.ts";
import { RedisStateVersionStore } from "./state-version.ts";
import { RedisSystemEventStore } from "./system-events.ts";
import { RedisTranscriptStore } from "./transcripts.ts";
import { RedisTurnQueue } from "./turn-queue.ts";
import { REDIS_REPLY_TIMEOUT_MS, REDIS_UNAVAILABLE } from "./unavailable.ts";

/** Where the shared state lives. */
export interface RedisStoresOptions {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. */
  url: string;
  /** Every key (and the bus channel) starts with it, so gateways can share a server; `openclaw:` by default. */
  keyPrefix?: string;
  /**
   * The clock expiry is judged on, in milliseconds; Redis's own clock by default, so replicas agree
   * without synchronised clocks. Tests pass a clock they move by hand.
   */
  now?: () => number;
  /** Hears connection errors (the client reconnects by itself), failed publishes and listener errors. */
  onError?: (error: unknown) => void;
  /**
   * How long a replica's own (pinned) presence row outlives the replica: renewed every third of it while
   * the bundle is open, so a replica that died is no longer listed after it. 60 s by default.
   */
  pinnedPresenceTtlMs?: number;
  /**
   * How the change feed notices a subscriber connection that silently stopped delivering: a PING on it
   * every `everyMs` (1 s by default), and local views are untrusted once no ping sent within `withinMs`
   * (3 s by default) has been answered. Tests shorten both.
   */
  feedLiveness?: { everyMs: number; withinMs: number };
}

/** A bundle of Redis stores, holding two connections until {@link RedisStores.close}. */
export interface RedisStores extends GatewayStores {
  /** The server's URL without its credentials, to show (`redis://127.0.0.1:6379/0`). */
  readonly displayUrl: string;
  /** Whether the command connection is up now (false while the client reconnects). */
  readonly connected: boolean;
  /** Closes the bus and both connections. */
  close(): Promise<void>;
}

const SCRIPTED = [
  RedisEventBus,
  RedisPresenceStore,
  RedisDeviceStore,
  RedisIdempotencyStore,
  RedisRateLimitStore,
  RedisStateVersionStore,
  RedisSessionStore,
  RedisTranscriptStore,
  RedisRunStore,
  RedisLeaseStore,
  RedisNodeStore,
  RedisPeerRegistry,
  RedisExecApprovalStore,
  RedisSystemEventStore,
  RedisTurnQueue,
  RedisJsonDocs,
];

/**
 * Connects to Redis/Valkey at `options.url` and resolves the bundle once its scripts and bus are ready.
 *
 * @example Open the bundle when `REDIS_URL` names a server
 * ```ts
 * import { redisStores } from "@openclaw-ts/gateway/stores/redis";
 *
 * const url = Deno.env.get("REDIS_URL");
 * if (url) {
 *   const stores = await redisStores({ url, keyPrefix: "example:" });
 *   console.log(`shared state on ${stores.displayUrl}, connected: ${stores.connected}`);
 *   await stores.close();
 * } else {
 *   // No server: the first connection attempt fails the call, reported to `onError` too.
 *   const errors: unknown[] = [];
 *   const opened = await redisStores({ url: "redis://127.0.0.1:1", onError: (error) => errors.push(error) })
 *     .then(() => true, () => false);
 *   if (opened || errors.length === 0) throw new Error("opened without a server");
 * }
 * ```
 */
export async function redisStores(options: RedisStoresOptions): Promise<RedisStores> {
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  let started = false;
  const client = newClient(options.url, () => started);
  client.on("error", onError);
  const subscriber = client.duplicate();
  subscriber.on("error", onError);
  let feed: ChangeFeed | undefined;
  let bus: RedisEventBus | undefined;
  const close = () =>
    closeWithin(REDIS_REPLY_TIMEOUT_MS, [subscriber, client], async () => {
      await bus?.close();
      await feed?.close();
      for (const c of [subscriber, client]) if (c.isOpen) await c.close();
    });
  try {
    await Promise.all([client.connect(), subscriber.connect()]);
    started = true;
    const prefix = options.keyPrefix ?? "openclaw:";
    const connection = new RedisConnection(client, prefix, options.now);
    await connection.load(SCRIPTED.flatMap((store): readonly LuaScript[] => store.scripts));
    // Alone, not behind the loads: the sooner its answer is read, the closer the estimate.
    await connection.learnClock();
    // Through the guarded client: a publish that a frozen server never answers fails at the reply bound.
    bus = await RedisEventBus.open(connection.client, subscriber, `${prefix}bus`, onError, connection);
    feed = await ChangeFeed.open(subscriber, `${prefix}changes`, options.feedLiveness);
    bus.heardThrough(feed);
    const now = options.now ?? Date.now;
    const presence = new RedisPresenceStore(connection, options.pinnedPresenceTtlMs);
    const rateLimits = new RedisRateLimitStore(connection, feed, now);
    await rateLimits.start();
    return {
      presence,
      devices: new RedisDeviceStore(connection, feed, now),
      idempotency: new RedisIdempotencyStore(connection),
      rateLimits,
      stateVersions: new RedisStateVersionStore(connection),
      sessions: new RedisSessionStore(connection),
      transcripts: new RedisTranscriptStore(connection),
      runs: new RedisRunStore(connection),
      leases: new RedisLeaseStore(connection),
      bus,
      responseSessions: new RedisResponseSessionStore(connection),
      nodes: new RedisNodeStore(connection),
      docs: new RedisJsonDocs(connection),
      peers: new RedisPeerRegistry(connection),
      displayUrl: displayUrl(options.url),
      get connected() {
        return client.isReady;
      },
      backend: {
        kind: "redis",
        url: displayUrl(options.url),
        keyPrefix: prefix,
        connected: () => client.isReady,
      },
      execApprovals: new RedisExecApprovalStore(connection),
      systemEvents: new RedisSystemEventStore(connection),
      turnQueue: new RedisTurnQueue(connection),
      async close() {
        presence.stop();
        await close();
      },
    };
  } catch (error) {
    await close().catch(() => {});
    throw startFailure(options.url, error);
  }
}

/**
 * Runs `graceful` (which waits for replies still pending), but for `boundMs` at most: a frozen server
 * answers none, and a stop (SIGTERM, a reload) must not wait until TCP gives up. Then drops whichever of
 * `clients` is still open, failing what it still waits for.
 */
async function closeWithin(
  boundMs: number,
  clients: RedisClient[],
  graceful: () => Promise<void>,
): Promise<void> {
  const closing = graceful();
  // Past the bound, the dropped clients fail it: nobody is left to hear that.
  closing.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<void>((resolve) => timer = setTimeout(resolve, boundMs));
  try {
    await Promise.race([closing, bound]);
  } finally {
    clearTimeout(timer);
    for (const c of clients) if (c.isOpen) c.destroy();
  }
}

/** A client for `url` (not connected yet); `started` says whether a lost connection is retried. */
function newClient(url: string, started: () => boolean): RedisClient {
  try {
    return createClient({
      url,
      // Without a connection a command fails at once instead of queueing: a request fails fast while Redis is away.
      disableOfflineQueue: true,
      socket: {
        // An unreachable server fails the start; a lost connection is retried for as long as it takes.
        reconnectStrategy: (retries: number, cause: Error) =>
          started() ? Math.min(50 * 2 ** retries, 2_000) : cause,
      },
    });
  } catch (error) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `the Redis URL ${displayUrl(url)} cannot be used: ${withoutUrl(url, error)}`,
    );
  }
}

/** Certificate errors from Deno's and Node's TLS stacks, which a private CA explains. */
const CERTIFICATE_ERROR = /certificate|self[- ]signed|unable to verify|UnknownIssuer|CERT_/i;

/**
 * A start that failed, told so that an operator knows it was Redis, which server, and (for a certificate
 * the runtime does not trust) how to trust it: the client's own message ("self-signed certificate",
 * "connect ECONNREFUSED ...") names neither.
 */
function startFailure(url: string, cause: unknown): GatewayError {
  const reason = withoutUrl(url, cause).replace(/\.$/, "");
  const hint = CERTIFICATE_ERROR.test(reason)
    ? " To trust a private CA, start with DENO_CERT=<ca.pem> (Deno) or NODE_EXTRA_CA_CERTS=<ca.pem> (Node)."
    : "";
  return new GatewayError(
    "UNAVAILABLE",
    `Redis at ${displayUrl(url)} could not be reached: ${reason}.${hint}`,
    {
      details: { code: REDIS_UNAVAILABLE },
      retryable: true,
    },
  );
}

/** `cause`'s message with `url` (node-redis quotes a URL it cannot parse, password and all) shown as {@link displayUrl}. */
function withoutUrl(url: string, cause: unknown): string {
  return (cause instanceof Error ? cause.message : String(cause)).replaceAll(url, displayUrl(url));
}

/** `url` without its username and password, for status output and logs. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "redis://(unparsable URL)";
  }
}
