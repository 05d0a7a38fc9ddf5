/**
 * Presence: who is connected, keyed the way protocol v4 keys it (device id, then instance id, then
 * connection id, case-insensitively), with a TTL and a size cap.
 *
 * @module
 */

/** One presence row as `system-presence` returns it. */
export interface PresenceEntry {
  /** The client's display name (or id); the gateway's host name for its own row. */
  host?: string;
  /** The client's address, left out for loopback. */
  ip?: string;
  /** The client's version. */
  version?: string;
  /** The client's platform (`linux`, `web`, ...). */
  platform?: string;
  /** The client's device family, as it reported it. */
  deviceFamily?: string;
  /** The client's hardware model, as it reported it. */
  modelIdentifier?: string;
  /** `connect.params.client.mode` (`ui`, `webchat`, ...; `gateway` for the gateway itself). */
  mode?: string;
  /** Why the row was written (`connect`, `self`). */
  reason?: string;
  /** A one-line summary for display. */
  text?: string;
  /** When the row was written or refreshed (ms since the epoch); rows expire from here. */
  ts: number;
  /** The proved device id, when the client signed in as a device. */
  deviceId?: string;
  /** The connection's role. */
  roles?: string[];
  /** The connection's granted scopes. */
  scopes?: string[];
  /** The client's own instance id (a claim, not proof). */
  instanceId?: string;
}

/**
 * Where presence lives; in-process by default, shared across replicas by a network store. Keys are
 * case-insensitive. Operations one caller issues apply in the order it issued them.
 */
export interface PresenceStore {
  /**
   * Adds or refreshes a row (it becomes the newest); a `pinned` row neither expires nor is evicted. The
   * `owner` (e.g. replica and connection) is who wrote it; a write without one leaves the row unowned.
   */
  upsert(key: string, entry: PresenceEntry, options?: PresenceWriteOptions): Promise<void>;
  /**
   * Removes a row; with `owner`, only while the row is that owner's (compare-and-delete), so the late
   * close of a device's old socket cannot remove the row its newer socket, on any replica, wrote since.
   * Resolves whether a row was removed.
   */
  remove(key: string, owner?: string): Promise<boolean>;
  /** The rows whose `ts` is within {@link PRESENCE_TTL_MS} of `now` (pinned rows always), oldest first. */
  list(now: number): Promise<PresenceEntry[]>;
}

/** How a row is written. */
export interface PresenceWriteOptions {
  /** The row neither expires nor is evicted (the gateway's own row). */
  pinned?: boolean;
  /** Who holds the row: only a removal naming this owner (or none) removes it. */
  owner?: string;
}

/** Rows expire after five minutes without an update. */
export const PRESENCE_TTL_MS = 5 * 60_000;
/** At most this many rows; the oldest go first. */
export const PRESENCE_CAP = 200;

/** The in-process presence store. Rows are stored and handed out frozen, never as the caller's objects. */
export class MemoryPresenceStore implements PresenceStore {
  #rows = new Map<string, Readonly<PresenceEntry>>();
  /** Keys that never expire (the gateway's own `self` row). */
  #pinned = new Set<string>();
  #owners = new Map<string, string>();

  upsert(key: string, entry: PresenceEntry, options: PresenceWriteOptions = {}): Promise<void> {
    const k = key.toLowerCase();
    this.#rows.delete(k);
    this.#rows.set(k, frozenCopy(entry));
    if (options.pinned) this.#pinned.add(k);
    else this.#pinned.delete(k);
    if (options.owner) this.#owners.set(k, options.owner);
    else this.#owners.delete(k);
    while (this.#rows.size > PRESENCE_CAP) {
      const oldest = [...this.#rows.keys()].find((key) => !this.#pinned.has(key));
      if (oldest === undefined) break;
      this.#drop(oldest);
    }
    return Promise.resolve();
  }

  remove(key: string, owner?: string): Promise<boolean> {
    const k = key.toLowerCase();
    if (owner && this.#owners.get(k) !== owner) return Promise.resolve(false);
    return Promise.resolve(this.#drop(k));
  }

  list(now: number): Promise<PresenceEntry[]> {
    for (const [key, row] of this.#rows) {
      if (!this.#pinned.has(key) && now - row.ts > PRESENCE_TTL_MS) this.#drop(key);
    }
    return Promise.resolve([...this.#rows.values()]);
  }

  #drop(key: string): boolean {
    this.#pinned.delete(key);
    this.#owners.delete(key);
    return this.#rows.delete(key);
  }
}

function frozenCopy(entry: PresenceEntry): Readonly<PresenceEntry> {
  const copy = { ...entry };
  if (copy.roles) copy.roles = Object.freeze([...copy.roles]) as string[];
  if (copy.scopes) copy.scopes = Object.freeze([...copy.scopes]) as string[];
  return Object.freeze(copy);
}
