/**
 * Presence rows: the gateway's own pinned row while it runs, one row per authenticated client (per
 * device, or per connection without one), and the `presence` event that announces each change.
 *
 * @module
 */
import { isLoopbackAddress } from "../auth/locality.ts";
import type { BusEvent } from "../bus/types.ts";
import type { PresenceEntry } from "../state/presence.ts";
import type { StateVersions } from "../state/state-version.ts";
import { GATEWAY_VERSION } from "../version.ts";
import type { Connection } from "../ws/connection.ts";
import type { GatewayCore } from "./core.ts";
import type { GatewayOptions } from "./types.ts";

/** Client modes that get no presence row (short-lived tools and probes). */
const QUIET_PRESENCE_MODES = new Set(["cli", "backend", "probe"]);

/**
 * How old the store read behind {@link PresenceRows.snapshot} may be: rows that lapse send no event. A
 * snapshot past half of it is read again in the background, so steady connects never wait for the read.
 */
export const PRESENCE_SNAPSHOT_MAX_AGE_MS = 1_000;

/**
 * How long, and over how many changes, a `presence` announcement may wait for the queue to drain: under
 * sustained churn (thousands of sockets reconnecting) the queue may never drain, and other replicas must
 * still hear about the rows.
 */
export const PRESENCE_ANNOUNCE_MAX_DEFER = { ms: 200, changes: 100 } as const;

/** The rows and the state versions they go with. */
export interface PresenceSnapshot {
  rows: PresenceEntry[];
  versions: StateVersions;
}

/** The gateway's presence rows; see the module doc. */
export interface PresenceRows {
  /** The rows as clients see them now. */
  list(): Promise<PresenceEntry[]>;
  /**
   * The rows and versions for `hello-ok`: from the store at most {@link PRESENCE_SNAPSHOT_MAX_AGE_MS} ago,
   * and since then as the latest `presence` event (of any replica: it carries the whole list and its
   * version) says, so most connects cost no store round trip. Events are heard while the gateway runs,
   * and trusted only while the bus says none was missed since the read (`EventBus.link`).
   */
  snapshot(): Promise<PresenceSnapshot>;
  /** Writes the gateway's own pinned row (at start). */
  addSelf(): Promise<void>;
  /** Waits for the announced changes still pending, then removes the gateway's own row (at stop). */
  removeSelf(): Promise<void>;
  /** Writes the row of a connection that just authenticated and announces it. */
  connected(connection: Connection): void;
  /** Removes an authenticated connection's row while it still owns it (on any replica), and announces that. */
  disconnected(connection: Connection): void;
}

/** Creates the presence rows over the presence store; `options.host` describes this machine for the own row. */
export function createPresenceRows(
  { now, stores, noteVersions, logger, selfId }: Pick<
    GatewayCore,
    "now" | "stores" | "noteVersions" | "logger" | "selfId"
  >,
  options: Pick<GatewayOptions, "host">,
): PresenceRows {
  const { presence } = stores;
  // Connection ids are unique only within a replica; with the boot id, an owner is unique in the cluster.
  const ownerOf = (connection: Connection) => `${selfId}/${connection.connId}`;

  const selfPresence = (): PresenceEntry => {
    const host = options.host?.name ?? "gateway";
    const entry: PresenceEntry = {
      host,
      version: GATEWAY_VERSION,
      platform: options.host?.platform ?? "unknown",
      mode: "gateway",
      reason: "self",
      instanceId: selfId,
      text: `Gateway: ${host} · app ${GATEWAY_VERSION} · mode gateway · reason self`,
      ts: now(),
    };
    if (options.host?.ip && !isLoopbackAddress(options.host.ip)) entry.ip = options.host.ip;
    return entry;
  };

  /**
   * Presence changes apply and publish one at a time, in the order they happened: a removal is never
   * overtaken by a later upsert of the same key, nor a newer list by an older one. Changes queued while
   * one applies are announced together, once, by the last of them (a client that connects and leaves at
   * once costs one version and one list, not two), each a store round trip fewer — but never deferred
   * beyond {@link PRESENCE_ANNOUNCE_MAX_DEFER}.
   */
  let presenceChanges: Promise<void> = Promise.resolve();
  /** Owners whose row is queued but not yet being written. */
  const queuedUpserts = new Set<string>();
  let queued = 0;
  let unannounced = 0;
  let unannouncedSince = 0;
  const mayDefer = () =>
    queued > 0 && unannounced < PRESENCE_ANNOUNCE_MAX_DEFER.changes &&
    now() - unannouncedSince < PRESENCE_ANNOUNCE_MAX_DEFER.ms;
  const changePresence = (change: () => Promise<boolean | void>): Promise<void> => {
    queued++;
    return presenceChanges = presenceChanges.then(async () => {
      try {
        if ((await change()) !== false && unannounced++ === 0) unannouncedSince = now();
      } catch (error) {
        // The changes before it still get announced.
        logger.error("presence update failed", { error: String(error) });
      } finally {
        queued--;
      }
      if (unannounced === 0 || mayDefer()) return;
      unannounced = 0;
      // Sent together (one round trip on Redis): the list is read once the change is in.
      const [versions, rows] = await Promise.all([
        stores.stateVersions.bump("presence"),
        presence.list(now()),
      ]);
      stores.bus.publish({
        event: "presence",
        payload: { presence: rows },
        stateVersion: { presence: noteVersions(versions).presence },
      });
    }).catch((error) => logger.error("presence update failed", { error: String(error) }));
  };

  let shown: (PresenceSnapshot & { readAt: number; link: number | undefined }) | undefined;
  let reading: Promise<PresenceSnapshot> | undefined;
  const link = () => stores.bus.link?.();
  const read = async (): Promise<PresenceSnapshot> => {
    const linked = link();
    // Versions first: a change landing between the two reads then leaves rows newer than their version
    // (its event, heard next, is applied again), never a version whose rows lack it (its event ignored).
    const versions = await stores.stateVersions.current();
    const rows = await presence.list(now());
    // An event heard meanwhile may be newer than the read: its rows stay.
    if (!shown || versions.presence >= shown.versions.presence) {
      shown = { rows, versions, readAt: now(), link: linked };
    } else Object.assign(shown, { readAt: now(), link: linked });
    return shown;
  };
  const refresh = () => reading ??= read().finally(() => reading = undefined);
  const current = () =>
    shown !== undefined && now() - shown.readAt <= PRESENCE_SNAPSHOT_MAX_AGE_MS &&
    (!stores.bus.link || (shown.link !== undefined && link() === shown.link));
  const heard = (event: BusEvent) => {
    const version = event.stateVersion?.presence;
    if (event.event !== "presence" || version === undefined || !shown || version <= shown.versions.presence) {
      return;
    }
    const rows = (event.payload as { presence: PresenceEntry[] }).presence;
    shown = { ...shown, rows, versions: { ...shown.versions, presence: version } };
  };
  let stopHearing: (() => void) | undefined;
  const forget = () => {
    stopHearing?.();
    stopHearing = undefined;
    shown = undefined;
  };

  return {
    list: () => presence.list(now()),
    snapshot() {
      // With the store away, a connect still gets the rows last read (or at least this gateway's own),
      // as stale as presence may be, instead of a refusal for want of a list nobody needs to be exact.
      if (!current()) {
        return refresh().catch(() => shown ?? { rows: [selfPresence()], versions: noteVersions({}) });
      }
      // A failed background read leaves the snapshot as it is; the next connect past the age asks again.
      if (now() - shown!.readAt > PRESENCE_SNAPSHOT_MAX_AGE_MS / 2) refresh().catch(() => {});
      return Promise.resolve(shown!);
    },
    async addSelf() {
      stopHearing ??= stores.bus.subscribe(heard);
      await presence.upsert(`self:${selfId}`, selfPresence(), { pinned: true }).catch((error) => {
        // A start that fails here never stops: nothing may stay subscribed.
        forget();
        throw error;
      });
    },
    async removeSelf() {
      forget();
      await presenceChanges;
      await presence.remove(`self:${selfId}`);
    },
    connected(connection) {
      // Closed while its hello-ok's early events were flushed (a slow consumer): its close already ran,
      // and a row written now would outlive it until its TTL.
      if (connection.isClosed) return;
      const caller = connection.caller!;
      if (caller.client && !QUIET_PRESENCE_MODES.has(caller.client.mode)) {
        const row = connectionPresence(connection, "connect", now());
        const owner = ownerOf(connection);
        queuedUpserts.add(owner);
        changePresence(async () => {
          if (!queuedUpserts.delete(owner)) return false;
          await presence.upsert(presenceKey(connection), row, { owner });
        });
      }
    },
    disconnected(connection) {
      if (connection.caller!.client && !QUIET_PRESENCE_MODES.has(connection.caller!.client.mode)) {
        // A connection that closes before its row was written leaves nothing to write or remove (the
        // removal below only ever removes its own row): when connects outpace the store, the queue
        // then sheds them instead of draining a backlog for seconds after the churn stopped.
        if (queuedUpserts.delete(ownerOf(connection))) return;
        // Only the connection that wrote the row removes it: a device's older socket closing late must
        // not erase the row its newer socket holds, here or on another replica.
        changePresence(() => presence.remove(presenceKey(connection), ownerOf(connection)));
      }
    },
  };
}

/**
 * A presence row belongs to an authenticated identity: a device (proved by its key) has one row; a
 * client without a device only ever owns its connection's row, because its `instanceId` is a claim
 * anyone can copy and must not let one client replace or remove another's row.
 */
function presenceKey(connection: Connection): string {
  const caller = connection.caller;
  return caller?.deviceId ? `device:${caller.deviceId}` : `conn:${connection.connId}`;
}

function connectionPresence(connection: Connection, reason: string, ts: number): PresenceEntry {
  const caller = connection.caller!;
  const client = caller.client!;
  const name = client.displayName ?? client.id;
  const entry: PresenceEntry = {
    host: name,
    version: client.version,
    platform: client.platform,
    deviceFamily: client.deviceFamily,
    modelIdentifier: client.modelIdentifier,
    mode: client.mode,
    reason,
    deviceId: caller.deviceId,
    roles: [caller.role],
    scopes: [...caller.scopes],
    instanceId: client.instanceId,
    text: `${name} · ${client.mode} · ${reason}`,
    ts,
  };
  if (!isLoopbackAddress(connection.remoteAddress)) entry.ip = connection.remoteAddress;
  for (const key of Object.keys(entry) as (keyof PresenceEntry)[]) {
    if (entry[key] === undefined || entry[key] === "") delete entry[key];
  }
  return entry;
}
