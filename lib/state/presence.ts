/**
 * Presence: who is connected, keyed the way protocol v4 keys it (device id, then instance id, then
 * connection id, case-insensitively), with a TTL and a size cap.
 *
 * @module
 */

/** One presence row as `system-presence` returns it. */
export interface PresenceEntry {
  host?: string;
  ip?: string;
  version?: string;
  platform?: string;
  deviceFamily?: string;
  modelIdentifier?: string;
  mode?: string;
  reason?: string;
  text?: string;
  ts: number;
  deviceId?: string;
  roles?: string[];
  scopes?: string[];
  instanceId?: string;
}

/** Where presence lives; in-process by default, shareable across replicas later. */
export interface PresenceStore {
  /** Adds or refreshes a row; a `pinned` row (the gateway's own) neither expires nor is evicted. */
  upsert(key: string, entry: PresenceEntry, options?: { pinned?: boolean }): void;
  remove(key: string): boolean;
  list(now: number): PresenceEntry[];
}

/** Rows expire after five minutes without an update. */
export const PRESENCE_TTL_MS = 5 * 60_000;
/** At most this many rows; the oldest go first. */
export const PRESENCE_CAP = 200;

/** The in-process presence store. */
export class MemoryPresenceStore implements PresenceStore {
  #rows = new Map<string, PresenceEntry>();
  /** Keys that never expire (the gateway's own `self` row). */
  #pinned = new Set<string>();

  upsert(key: string, entry: PresenceEntry, options: { pinned?: boolean } = {}): void {
    const k = key.toLowerCase();
    this.#rows.delete(k);
    this.#rows.set(k, entry);
    if (options.pinned) this.#pinned.add(k);
    while (this.#rows.size > PRESENCE_CAP) {
      const oldest = [...this.#rows.keys()].find((key) => !this.#pinned.has(key));
      if (oldest === undefined) break;
      this.#rows.delete(oldest);
    }
  }

  remove(key: string): boolean {
    this.#pinned.delete(key.toLowerCase());
    return this.#rows.delete(key.toLowerCase());
  }

  list(now: number): PresenceEntry[] {
    for (const [key, row] of this.#rows) {
      if (!this.#pinned.has(key) && now - row.ts > PRESENCE_TTL_MS) this.#rows.delete(key);
    }
    return [...this.#rows.values()];
  }
}
