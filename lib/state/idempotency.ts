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
/** At most this many records are kept by default; past it the oldest go first, so keys cannot grow memory. */
export const IDEMPOTENCY_MAX_ENTRIES = 10_000;

/** The in-process idempotency store. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  #records = new Map<string, { expires: number; result: Promise<unknown> }>();
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  constructor(now: () => number, ttlMs: number = IDEMPOTENCY_TTL_MS, maxEntries = IDEMPOTENCY_MAX_ENTRIES) {
    this.#now = now;
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /** How many records are held (expired ones go at the next call). */
  get size(): number {
    return this.#records.size;
  }

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const now = this.#now();
    this.#sweep(now);
    const existing = this.#records.get(key);
    if (existing) return existing.result as Promise<T>;
    const result = work();
    // Records are kept in insertion order, so the first one is the oldest.
    if (this.#records.size >= this.#maxEntries) this.#records.delete(this.#records.keys().next().value!);
    this.#records.set(key, { expires: now + this.#ttlMs, result });
    // A failed attempt must not pin the failure: the client's retry should run again.
    result.catch(() => {
      if (this.#records.get(key)?.result === result) this.#records.delete(key);
    });
    return result;
  }

  #sweep(now: number): void {
    for (const [key, record] of this.#records) {
      if (record.expires > now) break;
      this.#records.delete(key);
    }
  }
}
