/**
 * Pairings on Redis: devices by id and live tokens → device id in two hashes, first-save order in a list,
 * pending requests in a third hash. Each change is one script, so a replaced or revoked token stops
 * working on every replica at once and two approvals of one request cannot both take it.
 *
 * Every connect of a paired device reads its pairing, and pairings change rarely: a replica keeps the
 * pairings it read (by id and by token, as Redis answered) and answers later connects from them. The two
 * scripts that change a pairing also publish its id on the change feed (feed.ts) before they reply, and
 * each replica forgets everything it kept when it hears one, when its own change is sent and answered,
 * and whenever the feed's subscription was re-established; a read that raced a change is not kept.
 *
 * @module
 */
import {
  type DeviceStore,
  liveTokens,
  type PairedDevice,
  PAIRING_LIMITS,
  pairingBucket,
  type PairingRequestOutcome,
  PENDING_PAIRING_TTL_MS,
  type PendingPairing,
} from "../devices.ts";
import { type PendingLimit, pendingLimitError } from "../pending-limits.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";
import type { ChangeFeed } from "./feed.ts";
import { PENDING_LIMITS_LUA } from "./pending-limits.ts";

// Drops the token index entries of device ARGV[2] (KEYS: byId, byToken).
const FORGET_TOKENS = `
local previous = redis.call('HGET', KEYS[1], ARGV[2])
if previous then
  for _, entry in pairs(cjson.decode(previous).tokens or {}) do
    if redis.call('HGET', KEYS[2], entry.token) == ARGV[2] then redis.call('HDEL', KEYS[2], entry.token) end
  end
end
`;

// Announces a change of device ARGV[2] on the feed ARGV[3] ('' for none).
const ANNOUNCE = `if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], 'device ' .. ARGV[2]) end
`;

// KEYS: byId, byToken, order. ARGV: id, feed, device, live tokens...
const SAVE = new LuaScript(
  FORGET_TOKENS + ANNOUNCE + `
if not previous then redis.call('RPUSH', KEYS[3], ARGV[2]) end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
for i = 5, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], ARGV[2]) end
return 0
`,
);

// KEYS: byId, byToken, order, pending, pending buckets. ARGV: id, feed.
const REMOVE = new LuaScript(
  FORGET_TOKENS + `
if not previous then return nil end
` + ANNOUNCE + `
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('LREM', KEYS[3], 0, ARGV[2])
local all = redis.call('HGETALL', KEYS[4])
for i = 1, #all, 2 do
  if cjson.decode(all[i + 1]).deviceId == ARGV[2] then
    redis.call('HDEL', KEYS[4], all[i])
    redis.call('HDEL', KEYS[5], all[i])
  end
end
return previous
`,
);

// KEYS: byId, byToken. ARGV: token.
const BY_TOKEN = new LuaScript(`
local id = redis.call('HGET', KEYS[2], ARGV[2])
if not id then return nil end
return redis.call('HGET', KEYS[1], id)
`);

// KEYS: byId, order.
const LIST = new LuaScript(`
local devices = {}
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local device = redis.call('HGET', KEYS[1], id)
  if device then table.insert(devices, device) end
end
return devices
`);

// KEYS: pending, buckets. ARGV: request, ttl, its bucket, per-bucket limit, total limit. Returns {request,
// created, evicted ('' when none), superseded...}, or {'limited', limit, earliest expiry blocking} with nothing changed.
const REQUEST = new LuaScript(
  PENDING_LIMITS_LUA + `
local request = cjson.decode(ARGV[2])
local ttl = tonumber(ARGV[3])
local ask = function(r) return r.publicKey .. '|' .. r.role .. '|' .. table.concat(r.scopes or {}, ',') end
local buckets = {}
local flat = redis.call('HGETALL', KEYS[2])
for i = 1, #flat, 2 do buckets[flat[i]] = flat[i + 1] end
local mine, others = {}, {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local other = cjson.decode(all[i + 1])
  if request.ts - other.ts >= ttl then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('HDEL', KEYS[2], all[i])
  elseif other.deviceId == request.deviceId then
    if ask(other) == ask(request) then return {all[i + 1], 0, ''} end
    table.insert(mine, all[i])
  else
    -- A request stored before buckets were kept counts by its bare address.
    local bucket = buckets[all[i]] or other.remoteIp or ''
    table.insert(others, {id = all[i], bucket = bucket, expires = other.ts + ttl})
  end
end
local verdict = pending_limits(others, ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]))
if verdict and verdict[1] == 'limited' then return verdict end
local out = {ARGV[2], 1, ''}
if verdict then
  out[3] = redis.call('HGET', KEYS[1], verdict[2])
  redis.call('HDEL', KEYS[1], verdict[2])
  redis.call('HDEL', KEYS[2], verdict[2])
end
for _, id in ipairs(mine) do
  table.insert(out, redis.call('HGET', KEYS[1], id))
  redis.call('HDEL', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
redis.call('HSET', KEYS[1], request.requestId, ARGV[2])
redis.call('HSET', KEYS[2], request.requestId, ARGV[4])
return out
`,
);

// KEYS: pending, buckets. ARGV: requestId.
const TAKE = new LuaScript(`
local request = redis.call('HGET', KEYS[1], ARGV[2])
if request then
  redis.call('HDEL', KEYS[1], ARGV[2])
  redis.call('HDEL', KEYS[2], ARGV[2])
end
return request
`);

/** How long a kept pairing is trusted at most, should a change ever go unannounced (a replica of an older version). */
const KEPT_MAX_AGE_MS = 60_000;
/** At most this many reads are kept per index; a full one starts over. */
const KEPT_MAX = 1_000;

/** The pairings this replica read, as Redis answered (the JSON text, or `null` for none); see the module doc. */
class KeptPairings {
  readonly #byId = new Map<string, { text: string | null; at: number }>();
  readonly #byToken = new Map<string, { text: string | null; at: number }>();
  /** Bumped by every change heard or made: a read sent before it is not kept. */
  #changes = 0;
  /** The feed link the kept reads were heard under. */
  #link: number | undefined;

  constructor(private readonly feed: ChangeFeed, private readonly now: () => number) {
    this.#link = feed.link();
    feed.listen("device", {
      changed: () => this.forget(),
      resubscribed: () => {
        this.forget();
        this.#link = this.feed.link();
      },
    });
  }

  /** The answer kept for `key` in index `by`, else `read()`'s, kept unless a change raced it. */
  async through(by: "id" | "token", key: string, read: () => Promise<string | null>): Promise<string | null> {
    const index = by === "id" ? this.#byId : this.#byToken;
    const link = this.feed.link();
    const usable = link !== undefined && link === this.#link;
    const kept = usable ? index.get(key) : undefined;
    if (kept && this.now() - kept.at < KEPT_MAX_AGE_MS) return kept.text;
    const changes = this.#changes;
    const at = this.now();
    const text = await read();
    if (usable && changes === this.#changes && this.feed.link() === link) {
      if (index.size >= KEPT_MAX) index.clear();
      index.set(key, { text, at });
    }
    return text;
  }

  /** Drops every kept read (a pairing changed somewhere). */
  forget(): void {
    this.#changes++;
    this.#byId.clear();
    this.#byToken.clear();
  }
}

/** Pairings shared by every replica on one Redis. */
export class RedisDeviceStore implements DeviceStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [SAVE, REMOVE, BY_TOKEN, LIST, REQUEST, TAKE];
  readonly #byId: string;
  readonly #byToken: string;
  readonly #order: string;
  readonly #pending: string;
  /** Each pending request's client address bucket, by request id (the caps count by it). */
  readonly #buckets: string;

  readonly #kept?: KeptPairings;
  readonly #feed: string;

  /**
   * Keeps its pairings under `connection`'s prefix. With a `feed`, it answers reads of pairings it read
   * before from memory until a change is heard; `now` measures how long.
   */
  constructor(private readonly connection: RedisConnection, feed?: ChangeFeed, now: () => number = Date.now) {
    this.#feed = feed?.channel ?? "";
    if (feed) this.#kept = new KeptPairings(feed, now);
    this.#byId = connection.key("devices:by-id");
    this.#byToken = connection.key("devices:by-token");
    this.#order = connection.key("devices:order");
    this.#pending = connection.key("devices:pending");
    this.#buckets = connection.key("devices:pending-buckets");
  }

  async get(deviceId: string): Promise<PairedDevice | undefined> {
    const id = deviceId.toLowerCase();
    const read = async () => await this.connection.client.hGet(this.#byId, id) ?? null;
    const found = this.#kept ? await this.#kept.through("id", id, read) : await read();
    return found ? JSON.parse(found) : undefined;
  }

  async byToken(token: string): Promise<PairedDevice | undefined> {
    const read = async () =>
      await this.connection.eval(BY_TOKEN, [this.#byId, this.#byToken], [token]) as string | null;
    const found = this.#kept ? await this.#kept.through("token", token, read) : await read();
    const device = found ? JSON.parse(found) as PairedDevice : undefined;
    return device && liveTokens(device).includes(token) ? device : undefined;
  }

  async save(device: PairedDevice): Promise<void> {
    const keys = [this.#byId, this.#byToken, this.#order];
    const id = device.deviceId.toLowerCase();
    await this.#changing(SAVE, keys, [id, this.#feed, JSON.stringify(device), ...liveTokens(device)]);
  }

  async remove(deviceId: string): Promise<PairedDevice | undefined> {
    const keys = [this.#byId, this.#byToken, this.#order, this.#pending, this.#buckets];
    const removed = await this.#changing(REMOVE, keys, [deviceId.toLowerCase(), this.#feed]);
    return removed ? JSON.parse(removed as string) : undefined;
  }

  /** Runs a script that changes a pairing: what this replica kept is forgotten before and after it. */
  async #changing(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    this.#kept?.forget();
    try {
      return await this.connection.eval(script, keys, args);
    } finally {
      this.#kept?.forget();
    }
  }

  async list(): Promise<PairedDevice[]> {
    const devices = await this.connection.eval(LIST, [this.#byId, this.#order], []);
    return (devices as string[]).map((device) => JSON.parse(device));
  }

  async request(request: PendingPairing): Promise<PairingRequestOutcome> {
    const [stored, created, evicted, ...superseded] = await this.connection.eval(REQUEST, [
      this.#pending,
      this.#buckets,
    ], [
      JSON.stringify(request),
      PENDING_PAIRING_TTL_MS,
      pairingBucket(request),
      PAIRING_LIMITS.perBucket,
      PAIRING_LIMITS.total,
    ]) as [string, number | string, string, ...string[]];
    if (stored === "limited") {
      throw pendingLimitError(PAIRING_LIMITS, created as PendingLimit, Number(evicted) - request.ts);
    }
    return {
      request: JSON.parse(stored),
      created: created === 1,
      superseded: superseded.map((s) => JSON.parse(s)),
      evicted: evicted ? [JSON.parse(evicted)] : [],
    };
  }

  async pending(requestId: string, now: number): Promise<PendingPairing | undefined> {
    const found = await this.connection.client.hGet(this.#pending, requestId);
    return liveRequest(found, now);
  }

  async listPending(now: number): Promise<PendingPairing[]> {
    const all = await this.connection.client.hVals(this.#pending);
    return all.flatMap((text) => liveRequest(text, now) ?? []).sort((a, b) => a.ts - b.ts);
  }

  async takePending(requestId: string, now: number): Promise<PendingPairing | undefined> {
    const taken = await this.connection.eval(TAKE, [this.#pending, this.#buckets], [requestId]);
    return liveRequest(taken as string | null, now);
  }
}

function liveRequest(text: string | null | undefined, now: number): PendingPairing | undefined {
  const request = text ? JSON.parse(text) as PendingPairing : undefined;
  return request && now - request.ts < PENDING_PAIRING_TTL_MS ? request : undefined;
}
