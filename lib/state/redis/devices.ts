/**
 * Pairings on Redis: devices by id and live tokens → device id in two hashes, first-save order in a list,
 * pending requests in a third hash. Each change is one script, so a replaced or revoked token stops
 * working on every replica at once and two approvals of one request cannot both take it.
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

// KEYS: byId, byToken, order. ARGV: id, device, live tokens...
const SAVE = new LuaScript(
  FORGET_TOKENS + `
if not previous then redis.call('RPUSH', KEYS[3], ARGV[2]) end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
for i = 4, #ARGV do redis.call('HSET', KEYS[2], ARGV[i], ARGV[2]) end
return 0
`,
);

// KEYS: byId, byToken, order, pending, pending buckets. ARGV: id.
const REMOVE = new LuaScript(
  FORGET_TOKENS + `
if not previous then return nil end
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

  /** Keeps its pairings under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {
    this.#byId = connection.key("devices:by-id");
    this.#byToken = connection.key("devices:by-token");
    this.#order = connection.key("devices:order");
    this.#pending = connection.key("devices:pending");
    this.#buckets = connection.key("devices:pending-buckets");
  }

  async get(deviceId: string): Promise<PairedDevice | undefined> {
    const found = await this.connection.client.hGet(this.#byId, deviceId.toLowerCase());
    return found ? JSON.parse(found) : undefined;
  }

  async byToken(token: string): Promise<PairedDevice | undefined> {
    const found = await this.connection.eval(BY_TOKEN, [this.#byId, this.#byToken], [token]);
    const device = found ? JSON.parse(found as string) as PairedDevice : undefined;
    return device && liveTokens(device).includes(token) ? device : undefined;
  }

  async save(device: PairedDevice): Promise<void> {
    const keys = [this.#byId, this.#byToken, this.#order];
    const id = device.deviceId.toLowerCase();
    await this.connection.eval(SAVE, keys, [id, JSON.stringify(device), ...liveTokens(device)]);
  }

  async remove(deviceId: string): Promise<PairedDevice | undefined> {
    const keys = [this.#byId, this.#byToken, this.#order, this.#pending, this.#buckets];
    const removed = await this.connection.eval(REMOVE, keys, [deviceId.toLowerCase()]);
    return removed ? JSON.parse(removed as string) : undefined;
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
