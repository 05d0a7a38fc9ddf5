/**
 * The presence rows and versions `hello-ok` carries: read from the store at most
 * {@link PRESENCE_SNAPSHOT_MAX_AGE_MS} ago, and since then as the latest `presence` event (of any replica:
 * it carries the whole list and its version) says, so most connects cost no store round trip. Events are
 * heard while the gateway runs, and trusted only while the bus says none was missed since the read
 * (`EventBus.link`).
 *
 * @module
 */
import type { BusEvent } from "../bus/types.ts";
import type { PresenceEntry } from "../state/presence.ts";
import type { StateVersions } from "../state/state-version.ts";
import type { GatewayCore } from "./core.ts";

/**
 * How old the store read behind a snapshot may be: rows that lapse send no event. A snapshot past half of
 * it is read again in the background, so steady connects never wait for the read.
 */
export const PRESENCE_SNAPSHOT_MAX_AGE_MS = 1_000;

/** The rows and the state versions they go with. */
export interface PresenceSnapshot {
  rows: PresenceEntry[];
  versions: StateVersions;
}

/** A snapshot with when it was read and the bus link it was read under. */
interface Shown extends PresenceSnapshot {
  readAt: number;
  link: number | undefined;
}

/** The cached presence snapshot of one gateway (see the module doc). */
export class PresenceSnapshots {
  #shown: Shown | undefined;
  /** The store read under way, which every connect meanwhile waits for. */
  #reading: Promise<PresenceSnapshot> | undefined;
  #stopHearing: (() => void) | undefined;

  constructor(private readonly core: Pick<GatewayCore, "now" | "stores">) {}

  /** The snapshot: the cached one while it is current, read again in the background past half its age. */
  get(): Promise<PresenceSnapshot> {
    const shown = this.#shown;
    if (!shown || !this.#current(shown)) return this.#refresh();
    // A failed background read leaves the snapshot as it is; the next connect past the age asks again.
    if (this.core.now() - shown.readAt > PRESENCE_SNAPSHOT_MAX_AGE_MS / 2) this.#refresh().catch(() => {});
    return Promise.resolve(shown);
  }

  /** The snapshot last read or heard, however old. */
  last(): PresenceSnapshot | undefined {
    return this.#shown;
  }

  /** Starts hearing `presence` events (the gateway starts). */
  listen(): void {
    this.#stopHearing ??= this.core.stores.bus.subscribe((event) => this.#heard(event));
  }

  /** Stops hearing events and drops the snapshot (the gateway stops, or failed to start). */
  forget(): void {
    this.#stopHearing?.();
    this.#stopHearing = undefined;
    this.#shown = undefined;
  }

  #link(): number | undefined {
    return this.core.stores.bus.link?.();
  }

  #current(shown: Shown): boolean {
    return this.core.now() - shown.readAt <= PRESENCE_SNAPSHOT_MAX_AGE_MS &&
      (!this.core.stores.bus.link || (shown.link !== undefined && this.#link() === shown.link));
  }

  #refresh(): Promise<PresenceSnapshot> {
    return this.#reading ??= this.#read().finally(() => this.#reading = undefined);
  }

  async #read(): Promise<PresenceSnapshot> {
    const { stores, now } = this.core;
    const linked = this.#link();
    // Versions first: a change landing between the two reads then leaves rows newer than their version
    // (its event, heard next, is applied again), never a version whose rows lack it (its event ignored).
    const versions = await stores.stateVersions.current();
    const rows = await stores.presence.list(now());
    // An event heard meanwhile may be newer than the read: its rows stay.
    if (!this.#shown || versions.presence >= this.#shown.versions.presence) {
      this.#shown = { rows, versions, readAt: now(), link: linked };
    } else Object.assign(this.#shown, { readAt: now(), link: linked });
    return this.#shown;
  }

  #heard(event: BusEvent): void {
    const shown = this.#shown;
    const version = event.stateVersion?.presence;
    if (event.event !== "presence" || version === undefined || !shown || version <= shown.versions.presence) {
      return;
    }
    const rows = (event.payload as { presence: PresenceEntry[] }).presence;
    this.#shown = { ...shown, rows, versions: { ...shown.versions, presence: version } };
  }
}
