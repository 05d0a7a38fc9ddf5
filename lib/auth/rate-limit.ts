/**
 * Failed-auth backoff: too many bad credentials from one client within a window locks it out for a
 * while. Missing credentials do not count; each credential class has its own counter.
 *
 * @module
 */

/** Tunables, defaulting to protocol v4's 10 failures per 60 s → 300 s lockout. */
export interface RateLimitOptions {
  maxAttempts: number;
  windowMs: number;
  lockoutMs: number;
}

/** The documented defaults. */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { maxAttempts: 10, windowMs: 60_000, lockoutMs: 300_000 };

/** Past this many tracked keys, expired entries are swept on the next failure. */
const MAX_TRACKED_KEYS = 10_000;

/** Counts failures per key (client IP or browser origin, plus credential class). */
export class AuthRateLimiter {
  #failures = new Map<string, number[]>();
  #lockedUntil = new Map<string, number>();
  constructor(private readonly options: RateLimitOptions, private readonly now: () => number) {}

  /** Milliseconds left on a lockout for `key`, or 0 when it may try. */
  retryAfter(key: string): number {
    const until = this.#lockedUntil.get(key);
    if (until === undefined) return 0;
    const left = until - this.now();
    if (left > 0) return left;
    this.#lockedUntil.delete(key);
    return 0;
  }

  /** Records a failed attempt; returns the lockout length when this failure triggered one. */
  fail(key: string): number {
    const now = this.now();
    // Keys come from client addresses: a scan from many addresses must not grow these maps forever.
    if (this.#failures.size + this.#lockedUntil.size > MAX_TRACKED_KEYS) this.#prune(now);
    const recent = (this.#failures.get(key) ?? []).filter((t) => now - t < this.options.windowMs);
    recent.push(now);
    if (recent.length >= this.options.maxAttempts) {
      this.#failures.delete(key);
      this.#lockedUntil.set(key, now + this.options.lockoutMs);
      return this.options.lockoutMs;
    }
    this.#failures.set(key, recent);
    return 0;
  }

  /** How many clients it currently remembers (failing or locked out). */
  get tracked(): number {
    return this.#failures.size + this.#lockedUntil.size;
  }

  /** Drops failure windows that have passed and lockouts that have ended. */
  #prune(now: number): void {
    for (const [key, times] of this.#failures) {
      if (now - times[times.length - 1] >= this.options.windowMs) this.#failures.delete(key);
    }
    for (const [key, until] of this.#lockedUntil) if (until <= now) this.#lockedUntil.delete(key);
  }

  /** Forgets failures after a success. */
  succeed(key: string): void {
    this.#failures.delete(key);
  }
}
