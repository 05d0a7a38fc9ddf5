/**
 * Leases on Redis: a hash per key with the holder's token and expiry, under a PX TTL so a dead
 * replica's lease vanishes by itself. Tokens number from one shared counter, so none is ever reused.
 *
 * @module
 */
import type { LeaseStore } from "../leases.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";
import { isRedisUnavailable } from "./unavailable.ts";

/** The Redis key of the lease named `key`. */
export function leaseKey(connection: RedisConnection, key: string): string {
  return connection.key(`lease:${key}`);
}

/**
 * Lua: `ownerHolds(key, owner)` tells whether the lease at `key` is held, unexpired, by `owner` (its
 * tokens are `<owner>#<n>`), for scripts of other stores that write only under a lease.
 */
export const OWNER_HOLDS = `
local function ownerHolds(key, owner)
  local token = redis.call('HGET', key, 'token')
  local expiresAt = tonumber(redis.call('HGET', key, 'expiresAt'))
  return token ~= false and string.sub(token, 1, #owner + 1) == owner .. '#' and expiresAt ~= nil and
    expiresAt > now
end
`;

// Sets `held` when KEYS[1] is held by ARGV[2] (a token) and has not expired.
const HELD_BY = `
local held = redis.call('HGET', KEYS[1], 'token') == ARGV[2] and
  tonumber(redis.call('HGET', KEYS[1], 'expiresAt')) > now
`;

// KEYS: lease, token counter. ARGV: owner, TTL, the attempt's id (for ABANDON).
const ACQUIRE = new LuaScript(`
local expiresAt = tonumber(redis.call('HGET', KEYS[1], 'expiresAt'))
if expiresAt and expiresAt > now then return nil end
local ttl = tonumber(ARGV[3])
local token = ARGV[2] .. '#' .. redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'token', token, 'expiresAt', string.format('%d', now + ttl), 'attempt', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ttl)
return token
`);

// KEYS: lease. ARGV: token, TTL.
const RENEW = new LuaScript(
  HELD_BY + `
if not held then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'expiresAt', string.format('%d', now + ttl))
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
`,
);

// KEYS: lease. ARGV: token.
const RELEASE = new LuaScript(`
if redis.call('HGET', KEYS[1], 'token') == ARGV[2] then redis.call('DEL', KEYS[1]) end
return 0
`);

// KEYS: lease. ARGV: the attempt's id. Drops the lease if that acquire attempt took it.
const ABANDON = new LuaScript(`
if redis.call('HGET', KEYS[1], 'attempt') == ARGV[2] then redis.call('DEL', KEYS[1]) end
return 0
`);

/** Leases shared by every replica on one Redis. */
export class RedisLeaseStore implements LeaseStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [ACQUIRE, RENEW, RELEASE, ABANDON];
  readonly #id = crypto.randomUUID();
  #attempts = 0;

  /** Keeps the leases under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {}

  async acquire(key: string, owner: string, ttlMs: number): Promise<string | null> {
    const keys = [this.#key(key), this.connection.key("lease-tokens")];
    const attempt = `${this.#id}:${++this.#attempts}`;
    try {
      return await this.connection.eval(ACQUIRE, keys, [owner, Math.max(1, ttlMs), attempt]) as string | null;
    } catch (error) {
      // The acquire may still land when Redis answers again (its caller was told it failed): its undo goes
      // right behind it on the connection, so the key is not held until the lease expires.
      if (isRedisUnavailable(error)) this.connection.eval(ABANDON, [keys[0]], [attempt]).catch(() => {});
      throw error;
    }
  }

  async renew(key: string, token: string, ttlMs: number): Promise<boolean> {
    return await this.connection.eval(RENEW, [this.#key(key)], [token, Math.max(1, ttlMs)]) === 1;
  }

  async release(key: string, token: string): Promise<void> {
    await this.connection.eval(RELEASE, [this.#key(key)], [token]);
  }

  #key(key: string): string {
    return leaseKey(this.connection, key);
  }
}
