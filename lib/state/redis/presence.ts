/**
 * Presence on Redis: rows in a hash, their order in a sorted set (a write makes a row the newest), pinned
 * keys in a set, owners in a hash. Rows expire by their `ts` against the `now` a reader passes, as in process, and the cap
 * bounds the hash.
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

// KEYS: rows, order, pinned, counter, owners. ARGV: key, row, pinned (1/0), cap, owner ('' for none).
const UPSERT = new LuaScript(`
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), ARGV[2])
if ARGV[4] == '1' then redis.call('SADD', KEYS[3], ARGV[2]) else redis.call('SREM', KEYS[3], ARGV[2]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[5], ARGV[2], ARGV[6]) else redis.call('HDEL', KEYS[5], ARGV[2]) end
local excess = redis.call('HLEN', KEYS[1]) - tonumber(ARGV[5])
if excess <= 0 then return 0 end
for _, key in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if excess == 0 then break end
  if redis.call('SISMEMBER', KEYS[3], key) == 0 then
    redis.call('HDEL', KEYS[1], key)
    redis.call('ZREM', KEYS[2], key)
    redis.call('HDEL', KEYS[5], key)
    excess = excess - 1
  end
end
return 0
`);

// KEYS: rows, order, pinned, owners. ARGV: key, owner ('' removes whoever owns it).
const REMOVE = new LuaScript(`
if ARGV[3] ~= '' and redis.call('HGET', KEYS[4], ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[4], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('SREM', KEYS[3], ARGV[2])
return redis.call('HDEL', KEYS[1], ARGV[2])
`);

// KEYS: rows, order, pinned, owners. ARGV: the reader's now, TTL. Drops expired rows on the way.
const LIST = new LuaScript(`
local live = {}
for _, key in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local row = redis.call('HGET', KEYS[1], key)
  local pinned = redis.call('SISMEMBER', KEYS[3], key) == 1
  if row and (pinned or tonumber(ARGV[2]) - cjson.decode(row).ts <= tonumber(ARGV[3])) then
    table.insert(live, row)
  else
    redis.call('HDEL', KEYS[1], key)
    redis.call('ZREM', KEYS[2], key)
    redis.call('HDEL', KEYS[4], key)
  end
end
return live
`);

/** Presence shared by every replica on one Redis. */
export class RedisPresenceStore implements PresenceStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [UPSERT, REMOVE, LIST];
  readonly #keys: string[];
  /** The keys of the scripts that leave the counter alone: rows, order, pinned, owners. */
  readonly #rowKeys: string[];

  /** Keeps its rows under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {
    this.#keys = ["rows", "order", "pinned", "counter", "owners"].map((k) => connection.key(`presence:${k}`));
    this.#rowKeys = this.#keys.filter((_, i) => i !== 3);
  }

  async upsert(key: string, entry: PresenceEntry, options: PresenceWriteOptions = {}): Promise<void> {
    const args = [
      key.toLowerCase(),
      JSON.stringify(entry),
      options.pinned ? "1" : "0",
      PRESENCE_CAP,
      options.owner ?? "",
    ];
    await this.connection.eval(UPSERT, this.#keys, args);
  }

  async remove(key: string, owner = ""): Promise<boolean> {
    return await this.connection.eval(REMOVE, this.#rowKeys, [key.toLowerCase(), owner]) === 1;
  }

  async list(now: number): Promise<PresenceEntry[]> {
    const rows = await this.connection.eval(LIST, this.#rowKeys, [now, PRESENCE_TTL_MS]);
    return (rows as string[]).map((row) => JSON.parse(row));
  }
}
