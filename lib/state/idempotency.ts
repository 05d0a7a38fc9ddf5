/**
 * Idempotency records: a retried request with the same key gets the first outcome instead of running
 * twice. Concurrent duplicates share the in-flight promise. Each record remembers a fingerprint of the
 * request it answered, so a key sent again with different input (another caller's message, another
 * session) is refused instead of being answered with someone else's result.
 *
 * @module
 */

/**
 * Where outcomes are remembered; in-process by default. Outcomes must be JSON values: a network store
 * hands a retry a decoded copy, not the first caller's object.
 *
 * Keys live in namespaces, one per surface that keeps records (`rpc` for method calls, `hook` for hook
 * deliveries): a key names a record of its own namespace only, and each namespace is capped on its own, so
 * a flood of one surface's keys never evicts another's outcomes. Namespaces are few and fixed by the code
 * (a short name without `:`); keys come from clients.
 */
export interface IdempotencyStore {
  /**
   * Runs `work` once per key of `namespace` within the TTL; later calls with the key and the same
   * `fingerprint` get the same result, calls with another fingerprint are rejected with
   * {@link IdempotencyConflict}. With `ahead`, a store that claims keys over the network may start
   * `work` before its claim is answered (the claim then shares the work's first round trip): `work`
   * must keep every lasting effect behind its {@link IdempotencyClaim}, and when the claim is lost its
   * outcome is dropped and the call goes on as if `work` had never started.
   */
  run<T>(
    namespace: string,
    key: string,
    fingerprint: string,
    work: (claim: IdempotencyClaim) => Promise<T>,
    options?: { ahead?: boolean },
  ): Promise<T>;
}

/** The claim on a key that a call's `work` runs under (see {@link IdempotencyStore.run}). */
export interface IdempotencyClaim {
  /**
   * True once the store answered that this call holds the key; false when another call holds it or
   * finished it (this call's work must then leave no trace); rejects when the store failed.
   */
  readonly won: Promise<boolean>;
  /**
   * Set on every claim of a store that replicas share: what a store of the same backend checks to write
   * only under it (`AppendGuard.claim`), so a write sent before the answer lands only if this call holds
   * the key.
   */
  readonly guard?: ClaimGuard;
  /**
   * Resolves whether the key was claimed before by a call whose claim is gone with no outcome kept (its
   * replica died, its work failed, or its outcome expired): what that call began may have gone on
   * elsewhere (a turn's run record says, `agents/standing-run.ts`). Unset where claims cannot lapse (in
   * one process). Such a claim, though won, is one the guards of other stores refuse (so nothing sent
   * ahead of the look at what went on lands) until {@link IdempotencyClaim.confirm}. A key the store no
   * longer lists (its namespace's cap or expiry pushed it out) claims as new; a run store that finds a
   * run under it marks the claim so then (`RunStore.putIfClaimed`).
   */
  readonly lapsed?: Promise<boolean>;
  /**
   * Makes a claim that followed a lapsed one a plain pending claim, which the guards then pass: called
   * once the call found that nothing its key names went on elsewhere. False when the claim is no longer
   * this call's. Set with {@link IdempotencyClaim.lapsed}.
   */
  readonly confirm?: () => Promise<boolean>;
}

/** Names one pending claim to the scripts of another store on the same backend. */
export interface ClaimGuard {
  /** The claim's record, as the idempotency store of that backend keys it. */
  record: string;
  /** The owner the claim was made under. */
  owner: string;
}

/** The claim of a store that answers at once: `work` starts only once its call holds the key. */
export const CLAIM_WON: IdempotencyClaim = { won: Promise.resolve(true) };

/** A key reused for a different request. */
export class IdempotencyConflict extends Error {
  /** `key` is the idempotency key that was reused. */
  constructor(readonly key: string) {
    super(`idempotency key '${key}' was already used for a different request`);
    this.name = "IdempotencyConflict";
  }
}

/** Records live ten minutes by default: long enough for client retries with backoff. */
export const IDEMPOTENCY_TTL_MS = 10 * 60_000;
/**
 * At most this many records are kept per namespace by default; past it the namespace's oldest go first. The
 * TTL alone let every keyed call (each `chat.send`) keep its record for ten minutes: hundreds of megabytes
 * under sustained load.
 */
export const IDEMPOTENCY_MAX_ENTRIES = 10_000;

/** One remembered outcome, in process. */
interface MemoryRecord {
  expires: number;
  fingerprint: string;
  result: Promise<unknown>;
}

/** The in-process idempotency store. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  /** Each namespace's records, in insertion order. */
  #namespaces = new Map<string, Map<string, MemoryRecord>>();
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  /** Records live `ttlMs` by `now`'s clock, and at most `maxEntries` are kept per namespace. */
  constructor(now: () => number, ttlMs: number = IDEMPOTENCY_TTL_MS, maxEntries = IDEMPOTENCY_MAX_ENTRIES) {
    this.#now = now;
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /** How many records are held in all namespaces (expired ones go at the next call in theirs). */
  get size(): number {
    let size = 0;
    for (const records of this.#namespaces.values()) size += records.size;
    return size;
  }

  run<T>(
    namespace: string,
    key: string,
    fingerprint: string,
    work: (claim: IdempotencyClaim) => Promise<T>,
  ): Promise<T> {
    const now = this.#now();
    let records = this.#namespaces.get(namespace);
    if (!records) this.#namespaces.set(namespace, records = new Map());
    this.#sweep(records, now);
    const existing = records.get(key);
    if (existing) {
      if (existing.fingerprint !== fingerprint) return Promise.reject(new IdempotencyConflict(key));
      return existing.result as Promise<T>;
    }
    const result = work(CLAIM_WON);
    records.set(key, { expires: now + this.#ttlMs, fingerprint, result });
    // A failed attempt must not pin the failure: the client's retry should run again.
    result.catch(() => {
      if (records.get(key)?.result === result) records.delete(key);
    });
    return result;
  }

  #sweep(records: Map<string, MemoryRecord>, now: number): void {
    for (const [key, record] of records) {
      // Records are kept in insertion order, so the oldest go first: expired ones, then any past the cap.
      if (record.expires > now && records.size < this.#maxEntries) break;
      records.delete(key);
    }
  }
}

/** A digest of a request without its `idempotencyKey` (at any depth), insensitive to object key order. */
export async function requestFingerprint(params: unknown): Promise<string> {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === "object") {
      return Object.fromEntries(
        Object.keys(value).sort().filter((k) => k !== "idempotencyKey").map((k) => [
          k,
          canonical((value as Record<string, unknown>)[k]),
        ]),
      );
    }
    return value;
  };
  const bytes = new TextEncoder().encode(JSON.stringify(canonical(params) ?? null));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
