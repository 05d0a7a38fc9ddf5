/**
 * Rate limits on Redis: a key's hit times in a list and its lockout in a string with the lockout's TTL,
 * judged and changed in one script per call, so a lockout earned on one replica holds on all.
 *
 * @module
 */
import type { RateLimitPolicy, RateLimitState, RateLimitStore, RateLimitVerdict } from "../rate-limit.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

// KEYS: hits, lock. ARGV: max, window. Sets `blocked` (ms, 0: free) after dropping hits that left the window.
const JUDGE = `
local max, window = tonumber(ARGV[2]), tonumber(ARGV[3])
local blocked = 0
local locked = tonumber(redis.call('GET', KEYS[2]) or '0')
if locked > now then
  blocked = locked - now
else
  while true do
    local first = redis.call('LINDEX', KEYS[1], 0)
    if not first or now - tonumber(first) < window then break end
    redis.call('LPOP', KEYS[1])
  end
  if redis.call('LLEN', KEYS[1]) >= max then blocked = tonumber(redis.call('LINDEX', KEYS[1], 0)) + window - now end
end
`;

// ARGV (after the policy): lockout ms ('' for none). Returns {allowed, retryAfterMs}.
const HIT = new LuaScript(
  JUDGE + `
if blocked > 0 then return {0, blocked} end
local count = redis.call('RPUSH', KEYS[1], now)
if ARGV[4] ~= '' and count >= max then
  local lockout = tonumber(ARGV[4])
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], string.format('%d', now + lockout), 'PX', math.max(lockout, 1))
  return {1, lockout}
end
redis.call('PEXPIRE', KEYS[1], window)
if count >= max then return {1, tonumber(redis.call('LINDEX', KEYS[1], 0)) + window - now} end
return {1, 0}
`,
);

// Returns {hits, retryAfterMs}.
const PEEK = new LuaScript(
  JUDGE + `
return {redis.call('LLEN', KEYS[1]), blocked}
`,
);

/** Rate limits shared by every replica on one Redis. */
export class RedisRateLimitStore implements RateLimitStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [HIT, PEEK];

  /** Keeps its counts under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {}

  async hit(key: string, policy: RateLimitPolicy): Promise<RateLimitVerdict> {
    const args = [policy.max, policy.windowMs, policy.lockoutMs ?? ""];
    const [allowed, retryAfterMs] = await this.connection.eval(HIT, this.#keys(key), args) as number[];
    return { allowed: allowed === 1, retryAfterMs };
  }

  async peek(key: string, policy: RateLimitPolicy): Promise<RateLimitState> {
    const args = [policy.max, policy.windowMs];
    const [hits, retryAfterMs] = await this.connection.eval(PEEK, this.#keys(key), args) as number[];
    return { hits, retryAfterMs };
  }

  async reset(key: string): Promise<void> {
    await this.connection.client.del(this.#keys(key)[0]);
  }

  #keys(key: string): string[] {
    return [this.connection.key(`rate:${key}:hits`), this.connection.key(`rate:${key}:lock`)];
  }
}
