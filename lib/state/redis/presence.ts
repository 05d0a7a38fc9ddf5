/**
 * Presence on Redis: rows in a hash, their order in a sorted set (a write makes a row the newest), pinned
 * keys in a set, owners in a hash. Rows expire by their `ts` against the `now` a reader passes, as in
 * process, and the cap bounds the hash. A pinned row (a replica's own) does not expire by its `ts`, but it
 * lives only while the process that wrote it renews it: a replica that died without removing its row loses
 * it within the pinned TTL, instead of being listed forever. A removal that names an owner removes the row
 * only while that owner still holds it, so a late close on one replica cannot remove a row a newer socket
 * on another replica wrote.
 *
 * @module
 */
import {
  PRESENCE_CAP,
  PRESENCE_TTL_MS,
  type PresenceEntry,
  type PresenceStore,
  type PresenceWriteOptions,
} from "../presence.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

/** How long a pinned row outlives the last renewal by the process that wrote it, by default. */
export const PINNED_PRESENCE_TTL_MS = 60_000;

// Every script's KEYS: rows, order, pinned, counter, pinned-until, owners.

// ARGV: key, row, pinned (1/0), cap, pinned TTL, owner ('' for none).
const UPSERT = new LuaScript(`
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ARGV[2])
if ARGV[4] == '1' then
  redis.call('SADD', KEYS[3], ARGV[2])
  redis.call('HSET', KEYS[5], ARGV[2], string.format('%d', now + tonumber(ARGV[6])))
elseif redis.call('SREM', KEYS[3], ARGV[2]) == 1 then
  redis.call('HDEL', KEYS[5], ARGV[2])
end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[6], ARGV[2], ARGV[7]) else redis.call('HDEL', KEYS[6], ARGV[2]) end
local excess = redis.call('HLEN', KEYS[1]) - tonumber(ARGV[5])
if excess <= 0 then return 0 end
for _, key in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if excess == 0 then break end
  if redis.call('SISMEMBER', KEYS[3], key) == 0 then
    redis.call('HDEL', KEYS[1], key)
    redis.call('ZREM', KEYS[2], key)
    redis.call('HDEL', KEYS[6], key)
    excess = excess - 1
  end
end
return 0
`);

// ARGV: key, owner ('' removes whoever owns it).
const REMOVE = new LuaScript(`
if ARGV[3] ~= '' and redis.call('HGET', KEYS[6], ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[6], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
if redis.call('SREM', KEYS[3], ARGV[2]) == 1 then redis.call('HDEL', KEYS[5], ARGV[2]) end
return redis.call('HDEL', KEYS[1], ARGV[2])
`);

// ARGV: key, row, pinned TTL. Puts back a row that lapsed (its process stalled past the TTL) where a new
// row goes; a live one keeps its place.
const RENEW = new LuaScript(`
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], 'NX', redis.call('INCR', KEYS[4]), ARGV[2])
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[2], string.format('%d', now + tonumber(ARGV[4])))
return 1
`);

// ARGV: the reader's now, TTL. A pinned row lives until its renewal lapses (on the scripts' clock); the
// others by their ts. Drops the dead on the way. Every presence event reads the list, so it reads each
// structure whole (four commands), not a command or three per row.
const LIST = new LuaScript(`
local function hash(key)
  local flat, map = redis.call('HGETALL', key), {}
  for i = 1, #flat, 2 do map[flat[i]] = flat[i + 1] end
  return map
end
local rows, pinnedUntil, pinned = hash(KEYS[1]), hash(KEYS[5]), {}
for _, key in ipairs(redis.call('SMEMBERS', KEYS[3])) do pinned[key] = true end
local live = {}
for _, key in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local row = rows[key]
  local alive
  if pinned[key] then
    alive = (tonumber(pinnedUntil[key]) or 0) > now
  else
    alive = row and tonumber(ARGV[2]) - cjson.decode(row).ts <= tonumber(ARGV[3])
  end
  if row and alive then
    table.insert(live, row)
  else
    redis.call('HDEL', KEYS[1], key)
    redis.call('ZREM', KEYS[2], key)
    redis.call('SREM', KEYS[3], key)
    redis.call('HDEL', KEYS[5], key)
    redis.call('HDEL', KEYS[6], key)
  end
end
return live
`);

/** Presence shared by every replica on one Redis. */
export class RedisPresenceStore implements PresenceStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [UPSERT, REMOVE, RENEW, LIST];
  readonly #keys: string[];
  /** The renewal timer of each pinned row this process wrote. */
  readonly #renewals = new Map<string, ReturnType<typeof setInterval>>();

  /** Keeps its rows under `connection`'s prefix; pinned rows live `pinnedTtlMs` past their last renewal. */
  constructor(
    private readonly connection: RedisConnection,
    private readonly pinnedTtlMs = PINNED_PRESENCE_TTL_MS,
  ) {
    this.#keys = ["rows", "order", "pinned", "counter", "pinned-until", "owners"].map((k) =>
      connection.key(`presence:${k}`)
    );
  }

  async upsert(key: string, entry: PresenceEntry, options: PresenceWriteOptions = {}): Promise<void> {
    const k = key.toLowerCase();
    const row = JSON.stringify(entry);
    const pinned = options.pinned ? "1" : "0";
    await this.connection.eval(UPSERT, this.#keys, [
      k,
      row,
      pinned,
      PRESENCE_CAP,
      this.pinnedTtlMs,
      options.owner ?? "",
    ]);
    this.#stopRenewing(k);
    if (!options.pinned) return;
    // A failed renewal is retried by the next one; the row outlives two of them.
    const renew = () => this.connection.eval(RENEW, this.#keys, [k, row, this.pinnedTtlMs]);
    this.#renewals.set(k, setInterval(() => renew().catch(() => {}), this.pinnedTtlMs / 3));
  }

  async remove(key: string, owner = ""): Promise<boolean> {
    const k = key.toLowerCase();
    const removed = await this.connection.eval(REMOVE, this.#keys, [k, owner]) === 1;
    if (removed || !owner) this.#stopRenewing(k);
    return removed;
  }

  async list(now: number): Promise<PresenceEntry[]> {
    const rows = await this.connection.eval(LIST, this.#keys, [now, PRESENCE_TTL_MS]);
    return (rows as string[]).map((row) => JSON.parse(row));
  }

  /** Stops renewing this process's pinned rows (at close); they lapse unless removed first. */
  stop(): void {
    for (const key of [...this.#renewals.keys()]) this.#stopRenewing(key);
  }

  #stopRenewing(key: string): void {
    clearInterval(this.#renewals.get(key));
    this.#renewals.delete(key);
  }
}
