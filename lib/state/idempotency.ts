/**
 * Idempotency records: a retried request with the same key gets the first outcome instead of running
 * twice. Concurrent duplicates share the in-flight promise.
 *
 * @module
 */

/** Where outcomes are remembered; in-process by default. */
export interface IdempotencyStore {
  /** Runs `work` once per key within the TTL; later calls with the key get the same result. */
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
}

/** Records live ten minutes by default: long enough for client retries with backoff. */
export const IDEMPOTENCY_TTL_MS = 10 * 60_000;

/**
 * And at most this many: under sustained load the TTL alone let every keyed call (each `chat.send`) keep
 * its record for ten minutes, hundreds of megabytes at a few thousand calls a second. The oldest go first.
 */
export const IDEMPOTENCY_CAP = 10_000;

/** The in-process idempotency store. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  #records = new Map<string, { expires: number; result: Promise<unknown> }>();
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #cap: number;
  constructor(now: () => number, ttlMs: number = IDEMPOTENCY_TTL_MS, cap: number = IDEMPOTENCY_CAP) {
    this.#now = now;
    this.#ttlMs = ttlMs;
    this.#cap = cap;
  }

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const now = this.#now();
    this.#sweep(now);
    const existing = this.#records.get(key);
    if (existing) return existing.result as Promise<T>;
    const result = work();
    this.#records.set(key, { expires: now + this.#ttlMs, result });
    // A failed attempt must not pin the failure: the client's retry should run again.
    result.catch(() => this.#records.delete(key));
    return result;
  }

  #sweep(now: number): void {
    for (const [key, record] of this.#records) {
      if (record.expires > now && this.#records.size < this.#cap) break;
      this.#records.delete(key);
    }
  }
}
