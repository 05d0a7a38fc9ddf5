/**
 * Remembers the signatures a webhook accepted for as long as their timestamp is inside the signature
 * window, so the same signed request cannot be delivered twice. Memory is bounded: past `maxEntries`
 * live signatures new requests are refused until old ones age out, rather than forgetting one that
 * could then be replayed.
 *
 * @module
 */

/** Live signatures kept at most by default (~100 bytes each). */
export const REPLAY_MAX_ENTRIES = 50_000;

/** What {@link ReplayGuard.admit} decided. */
export type ReplayVerdict = "fresh" | "replayed" | "full";

/** Signatures seen within their validity window. */
export class ReplayGuard {
  readonly #seen = new Map<string, number>();

  constructor(readonly windowMs: number, readonly maxEntries: number = REPLAY_MAX_ENTRIES) {}

  /** Records `signature` (signed at `at`) unless it was seen before or the guard is full. */
  admit(signature: string, at: number, now: number): ReplayVerdict {
    const expires = this.#seen.get(signature);
    if (expires !== undefined && expires > now) return "replayed";
    if (this.#seen.size >= this.maxEntries) this.#sweep(now);
    if (this.#seen.size >= this.maxEntries) return "full";
    // A signature stays valid until its timestamp leaves the window, so remember it that long.
    this.#seen.set(signature, at + this.windowMs);
    return "fresh";
  }

  /** Lets `signature` be accepted again: the request it signed was not taken after all. */
  forget(signature: string): void {
    this.#seen.delete(signature);
  }

  /** How many signatures are remembered. */
  get size(): number {
    return this.#seen.size;
  }

  #sweep(now: number): void {
    for (const [signature, expires] of this.#seen) {
      if (expires <= now) this.#seen.delete(signature);
    }
  }
}
