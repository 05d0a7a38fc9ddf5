/**
 * Leases: a key held by one owner at a time until it is released or its time runs out. Two replicas
 * use them to agree who runs a session's turns; a replica that dies stops renewing, and its lease
 * expires by itself.
 *
 * @module
 */

/** Time-bound exclusive holds on keys. Every call is atomic per key. */
export interface LeaseStore {
  /**
   * Takes `key` for `owner` for `ttlMs`, unless someone holds it and their lease has not expired.
   * Returns the token that proves the hold (renew and release need it), or `null` when taken.
   */
  acquire(key: string, owner: string, ttlMs: number): Promise<string | null>;
  /** Extends a hold for another `ttlMs` from now; `false` when `token` no longer holds `key`. */
  renew(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Gives up a hold; a token that no longer holds `key` changes nothing. */
  release(key: string, token: string): Promise<void>;
}

interface Hold {
  token: string;
  expiresAt: number;
}

/** Leases in process memory, judged against an injectable clock; expired holds are dropped on access. */
export class MemoryLeaseStore implements LeaseStore {
  readonly #holds = new Map<string, Hold>();
  #issued = 0;

  /** `now` is the clock expiry is judged against. */
  constructor(private readonly now: () => number = () => Date.now()) {}

  acquire(key: string, owner: string, ttlMs: number): Promise<string | null> {
    if (this.#live(key)) return Promise.resolve(null);
    const token = `${owner}#${++this.#issued}`;
    this.#holds.set(key, { token, expiresAt: this.now() + ttlMs });
    return Promise.resolve(token);
  }

  renew(key: string, token: string, ttlMs: number): Promise<boolean> {
    const hold = this.#live(key);
    if (hold?.token !== token) return Promise.resolve(false);
    hold.expiresAt = this.now() + ttlMs;
    return Promise.resolve(true);
  }

  release(key: string, token: string): Promise<void> {
    if (this.#holds.get(key)?.token === token) this.#holds.delete(key);
    return Promise.resolve();
  }

  /**
   * Whether `owner` (as it passed to {@link acquire}) holds `key` now, unexpired: read at once, so a write
   * to another in-process store can be guarded by it in the same step.
   */
  heldBy(key: string, owner: string): boolean {
    return this.#live(key)?.token.startsWith(`${owner}#`) ?? false;
  }

  #live(key: string): Hold | undefined {
    const hold = this.#holds.get(key);
    if (hold && hold.expiresAt <= this.now()) {
      this.#holds.delete(key);
      return undefined;
    }
    return hold;
  }
}
