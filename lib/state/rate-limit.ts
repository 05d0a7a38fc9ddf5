/**
 * Rate limits as shared state: hits per key within a sliding window, and what happens when a key reaches
 * its maximum (a lockout, or waiting until the window frees a slot). The auth failure backoff, the hooks
 * token limiter and the config write limit all count here, each under its own key prefix, so a lockout
 * holds on every replica that shares the store.
 *
 * @module
 */

/** How many hits a key may make, and for how long it is blocked once it has made them. */
export interface RateLimitPolicy {
  /** Hits allowed within {@link RateLimitPolicy.windowMs}. */
  max: number;
  /** How far back hits count. */
  windowMs: number;
  /**
   * When set, the hit that reaches `max` locks the key out for this long and clears its window. Without
   * it, a key at `max` is refused until its oldest hit leaves the window.
   */
  lockoutMs?: number;
}

/** The outcome of one {@link RateLimitStore.hit}. */
export interface RateLimitVerdict {
  /** Whether the hit was admitted (and counted); a refused hit is not counted. */
  allowed: boolean;
  /** How long until `key` may hit again (0: now). */
  retryAfterMs: number;
}

/** Where a key stands, from {@link RateLimitStore.peek}. */
export interface RateLimitState {
  /** Hits counted in the current window (none while locked out: the lockout cleared them). */
  hits: number;
  /** How long until the key may hit again (0: now). */
  retryAfterMs: number;
}

/** Where hits are counted; in-process by default, shared across replicas by a network store. */
export interface RateLimitStore {
  /** Counts one hit for `key` under `policy`, unless the key is blocked. */
  hit(key: string, policy: RateLimitPolicy): Promise<RateLimitVerdict>;
  /** Where `key` stands under `policy`, without counting a hit. */
  peek(key: string, policy: RateLimitPolicy): Promise<RateLimitState>;
  /** Forgets `key`'s hits (a success); a lockout already running stays. */
  reset(key: string): Promise<void>;
}

/** Past this many tracked keys, expired entries are swept on the next hit. */
const MAX_TRACKED_KEYS = 10_000;

interface KeyState {
  /** Hit times, oldest first. */
  hits: number[];
  lockedUntil: number;
  /** The window of the policy that last counted a hit here, for sweeping. */
  windowMs: number;
}

/** The in-process rate limit store, on the clock `now`. */
export class MemoryRateLimitStore implements RateLimitStore {
  #keys = new Map<string, KeyState>();
  readonly #now: () => number;
  /** Windows and lockouts are measured on `now` (milliseconds). */
  constructor(now: () => number) {
    this.#now = now;
  }

  /** How many keys it currently remembers (with hits or locked out). */
  get size(): number {
    return this.#keys.size;
  }

  hit(key: string, policy: RateLimitPolicy): Promise<RateLimitVerdict> {
    const now = this.#now();
    // Keys come from client addresses: a scan from many addresses must not grow the map forever.
    if (this.#keys.size > MAX_TRACKED_KEYS) this.#prune(now);
    const state = this.#keys.get(key) ?? { hits: [], lockedUntil: 0, windowMs: policy.windowMs };
    const blocked = this.#blockedFor(state, policy, now);
    if (blocked > 0) return Promise.resolve({ allowed: false, retryAfterMs: blocked });
    state.hits.push(now);
    state.windowMs = policy.windowMs;
    this.#keys.set(key, state);
    if (policy.lockoutMs !== undefined && state.hits.length >= policy.max) {
      state.hits = [];
      state.lockedUntil = now + policy.lockoutMs;
    }
    return Promise.resolve({ allowed: true, retryAfterMs: this.#blockedFor(state, policy, now) });
  }

  peek(key: string, policy: RateLimitPolicy): Promise<RateLimitState> {
    const state = this.#keys.get(key);
    if (!state) return Promise.resolve({ hits: 0, retryAfterMs: 0 });
    const retryAfterMs = this.#blockedFor(state, policy, this.#now());
    return Promise.resolve({ hits: state.hits.length, retryAfterMs });
  }

  reset(key: string): Promise<void> {
    const state = this.#keys.get(key);
    if (state) {
      if (state.lockedUntil > this.#now()) state.hits = [];
      else this.#keys.delete(key);
    }
    return Promise.resolve();
  }

  /** Drops hits that left the window and ends lockouts that ran out; 0 when the key may hit. */
  #blockedFor(state: KeyState, policy: RateLimitPolicy, now: number): number {
    if (state.lockedUntil > now) return state.lockedUntil - now;
    const first = state.hits.findIndex((t) => now - t < policy.windowMs);
    state.hits = first === -1 ? [] : first === 0 ? state.hits : state.hits.slice(first);
    return state.hits.length >= policy.max ? state.hits[0] + policy.windowMs - now : 0;
  }

  /** Drops keys whose lockout ended and whose last hit left its window. */
  #prune(now: number): void {
    for (const [key, state] of this.#keys) {
      const last = state.hits.at(-1);
      if (state.lockedUntil <= now && (last === undefined || now - last >= state.windowMs)) {
        this.#keys.delete(key);
      }
    }
  }
}
