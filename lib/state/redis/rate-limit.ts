/**
 * Rate limits on Redis: a key's hit times in a list and its lockout in a string with the lockout's TTL,
 * judged and changed in one script per call, so a lockout earned on one replica holds on all.
 *
 * Most keys never fail (every connect of a browser or a proxied client peeks its address's key), so a
 * replica keeps a local view of which keys have any hits or a lockout ("marked"), and answers a peek of
 * an unmarked key without a round trip. Marks live in a sorted set scored by when they lapse; the script
 * that sets or clears one also publishes it on the change feed (feed.ts), numbered by one counter so a
 * late message never undoes a newer change. A marked key is still peeked on Redis, so the view only ever
 * decides whether to ask.
 *
 * @module
 */
import type { RateLimitPolicy, RateLimitState, RateLimitStore, RateLimitVerdict } from "../rate-limit.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";
import type { ChangeFeed } from "./feed.ts";

// KEYS: hits, lock, marks, counter. ARGV: max, window. Sets `blocked` (ms, 0: free) after dropping hits
// that left the window.
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

// Marks `name` (ARGV[5]) until `untilMs` (or clears it with 0) and announces it on the feed (ARGV[6], ''
// for none) as `rate <number> <ms left> <name>`; returns {number, ms left}.
const MARK = `
local function mark(untilMs)
  local seq = redis.call('INCR', KEYS[4])
  if untilMs > 0 then
    untilMs = math.max(untilMs, tonumber(redis.call('ZSCORE', KEYS[3], ARGV[5]) or '0'))
    redis.call('ZADD', KEYS[3], untilMs, ARGV[5])
    if redis.call('PTTL', KEYS[3]) < untilMs - now then redis.call('PEXPIRE', KEYS[3], untilMs - now) end
  else
    redis.call('ZREM', KEYS[3], ARGV[5])
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  local left = math.max(untilMs - now, 0)
  if ARGV[6] ~= '' then redis.call('PUBLISH', ARGV[6], 'rate ' .. seq .. ' ' .. string.format('%d', left) .. ' ' .. ARGV[5]) end
  return {seq, left}
end
`;

// ARGV (after the policy): lockout ms ('' for none), name, feed. Returns {allowed, retryAfterMs, mark
// number, mark ms left} (no mark for a refused hit: the key is marked already).
const HIT = new LuaScript(
  JUDGE + MARK + `
if blocked > 0 then return {0, blocked, 0, 0} end
local count = redis.call('RPUSH', KEYS[1], now)
if ARGV[4] ~= '' and count >= max then
  local lockout = tonumber(ARGV[4])
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], string.format('%d', now + lockout), 'PX', math.max(lockout, 1))
  local m = mark(now + lockout)
  return {1, lockout, m[1], m[2]}
end
redis.call('PEXPIRE', KEYS[1], window)
local m = mark(now + window)
if count >= max then return {1, tonumber(redis.call('LINDEX', KEYS[1], 0)) + window - now, m[1], m[2]} end
return {1, 0, m[1], m[2]}
`,
);

// Returns {hits, retryAfterMs}.
const PEEK = new LuaScript(
  JUDGE + `
return {redis.call('LLEN', KEYS[1]), blocked}
`,
);

// ARGV: (max, window unused), '', name, feed. Forgets the hits; the mark goes too unless a lockout runs.
// Returns {mark number, 0}, or {0, 0} when the mark stays.
const RESET = new LuaScript(
  MARK + `
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > now then return {0, 0} end
return mark(0)
`,
);

// KEYS: marks, counter. Returns {number, name, ms left, name, ms left, ...} of the marks not yet lapsed.
const MARKS = new LuaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {tonumber(redis.call('GET', KEYS[2]) or '0')}
local marks = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
for i = 1, #marks, 2 do
  table.insert(out, marks[i])
  table.insert(out, string.format('%d', tonumber(marks[i + 1]) - now))
end
return out
`);

/**
 * Past this many marked keys the view is dropped and answers nothing (every peek goes to Redis) for
 * {@link OVERFLOW_MS}: an attacker with many addresses must not grow it, nor make each peek scan it.
 */
export const MAX_MARKS = 10_000;
const OVERFLOW_MS = 60_000;

/** Which keys have hits or a lockout, as this replica last heard (see the module doc). */
export class MarkView {
  readonly #marks = new Map<string, { until: number; seq: number }>();
  /** The feed link the view is complete for; `undefined` while (re)loading. */
  #trusted: number | undefined;
  #loading: Promise<void> | undefined;
  /** Until when the view, dropped for holding too many marks, answers nothing locally. */
  #overflowUntil = 0;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly now: () => number,
    private readonly load: () => Promise<unknown[]>,
  ) {
    feed.listen("rate", {
      changed: (body) => {
        const [seq, left, ...name] = body.split(" ");
        this.apply(name.join(" "), Number(seq), Number(left));
      },
      resubscribed: () => {
        this.#trusted = undefined;
        void this.reload();
      },
    });
  }

  /** Whether `key` is known to have no hits and no lockout on any replica. */
  clean(key: string): boolean {
    const link = this.feed.link();
    if (link === undefined || this.now() < this.#overflowUntil) return false;
    if (link !== this.#trusted) {
      // A load that failed (Redis away) or raced a resubscription is tried again.
      void this.reload();
      return false;
    }
    const mark = this.#marks.get(key);
    if (mark && mark.until > this.now()) return false;
    if (mark) this.#marks.delete(key);
    return true;
  }

  /** How many keys the view holds marked. */
  get size(): number {
    return this.#marks.size;
  }

  /**
   * Applies change number `seq`: marked for `left` ms more, or cleared (0). A mark only ever lengthens,
   * and only a clearing numbered after it removes it: a message that arrives late can cost a peek, never
   * skip one.
   */
  apply(key: string, seq: number, left: number): void {
    const mark = this.#marks.get(key);
    if (left > 0) {
      if (!mark && this.#marks.size >= MAX_MARKS) return this.#overflow();
      const until = Math.max(mark?.until ?? 0, this.now() + left);
      this.#marks.set(key, { until, seq: Math.max(mark?.seq ?? 0, seq) });
    } else if (!mark || mark.seq < seq) this.#marks.delete(key);
  }

  /** Reads every mark from Redis; the view is trusted from then on, unless the feed dropped meanwhile. */
  reload(): Promise<void> {
    return this.#loading ??= this.#load().finally(() => this.#loading = undefined);
  }

  async #load(): Promise<void> {
    const link = this.feed.link();
    if (link === undefined) return;
    const [seq, ...pairs] = await this.load().catch(() => [undefined]);
    if (seq === undefined || this.feed.link() !== link) return;
    if (pairs.length / 2 > MAX_MARKS) return this.#overflow();
    for (const [key, mark] of this.#marks) if (mark.seq <= Number(seq)) this.#marks.delete(key);
    for (let i = 0; i < pairs.length; i += 2) this.apply(String(pairs[i]), Number(seq), Number(pairs[i + 1]));
    this.#trusted = link;
  }

  /** Drops the view; after {@link OVERFLOW_MS} it is read whole again before it answers. */
  #overflow(): void {
    this.#marks.clear();
    this.#trusted = undefined;
    this.#overflowUntil = this.now() + OVERFLOW_MS;
  }
}

/** Rate limits shared by every replica on one Redis. */
export class RedisRateLimitStore implements RateLimitStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [HIT, PEEK, RESET, MARKS];
  readonly #view?: MarkView;
  readonly #feed: string;
  readonly #counters: string[];

  /**
   * Keeps its counts under `connection`'s prefix. With a `feed`, peeks of keys no replica has counted
   * anything for are answered locally; `now` is the clock the marks lapse on (the scripts' clock).
   */
  constructor(private readonly connection: RedisConnection, feed?: ChangeFeed, now: () => number = Date.now) {
    this.#feed = feed?.channel ?? "";
    this.#counters = [connection.key("rate:marks"), connection.key("rate:marks:counter")];
    if (!feed) return;
    this.#view = new MarkView(
      feed,
      now,
      () => connection.eval(MARKS, this.#counters, []) as Promise<unknown[]>,
    );
  }

  /** Loads the view of marked keys (a bundle without a feed has none). */
  async start(): Promise<void> {
    await this.#view?.reload();
  }

  async hit(key: string, policy: RateLimitPolicy): Promise<RateLimitVerdict> {
    const args = [policy.max, policy.windowMs, policy.lockoutMs ?? "", key, this.#feed];
    const [allowed, retryAfterMs, seq, left] = await this.connection.eval(
      HIT,
      this.#keys(key),
      args,
    ) as number[];
    // This replica's own change counts before its feed message arrives. A refused hit changed nothing in
    // Redis and sends no message, but it proves the key locked: this replica must not answer it clean
    // meanwhile (its feed may be late, or silently gone).
    if (seq) this.#view?.apply(key, seq, left);
    else if (allowed !== 1) this.#view?.apply(key, 0, retryAfterMs);
    return { allowed: allowed === 1, retryAfterMs };
  }

  async peek(key: string, policy: RateLimitPolicy): Promise<RateLimitState> {
    if (this.#view?.clean(key)) return { hits: 0, retryAfterMs: 0 };
    const args = [policy.max, policy.windowMs];
    const [hits, retryAfterMs] = await this.connection.eval(PEEK, this.#keys(key), args) as number[];
    return { hits, retryAfterMs };
  }

  async reset(key: string): Promise<void> {
    const [seq] = await this.connection.eval(RESET, this.#keys(key), [
      "",
      "",
      "",
      key,
      this.#feed,
    ]) as number[];
    if (seq) this.#view?.apply(key, seq, 0);
  }

  #keys(key: string): string[] {
    return [
      this.connection.key(`rate:${key}:hits`),
      this.connection.key(`rate:${key}:lock`),
      ...this.#counters,
    ];
  }
}
