/**
 * Presence rows: the gateway's own pinned row while it runs, one row per authenticated client (per
 * device, or per connection without one), and the `presence` event that announces each change.
 *
 * @module
 */
import { isLoopbackAddress } from "../auth/locality.ts";
import type { PresenceEntry } from "../state/presence.ts";
import { GATEWAY_VERSION } from "../version.ts";
import type { Connection } from "../ws/connection.ts";
import type { GatewayCore } from "./core.ts";
import { PresenceChanges } from "./presence-changes.ts";
import { type PresenceSnapshot, PresenceSnapshots } from "./presence-snapshot.ts";
import type { GatewayOptions } from "./types.ts";

/** Client modes that get no presence row (short-lived tools and probes). */
const QUIET_PRESENCE_MODES = new Set(["cli", "backend", "probe"]);

export { PRESENCE_ANNOUNCE_MAX_DEFER } from "./presence-changes.ts";
export { PRESENCE_SNAPSHOT_MAX_AGE_MS, type PresenceSnapshot } from "./presence-snapshot.ts";

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
  core: Pick<GatewayCore, "now" | "stores" | "noteVersions" | "logger" | "selfId">,
  options: Pick<GatewayOptions, "host">,
): PresenceRows {
  const { now, selfId } = core;
  const { presence } = core.stores;
  const changes = new PresenceChanges(core);
  const snapshots = new PresenceSnapshots(core);
  /** Owners whose row is queued but not yet being written. */
  const queuedUpserts = new Set<string>();
  // Connection ids are unique only within a replica; with the boot id, an owner is unique in the cluster.
  const ownerOf = (connection: Connection) => `${selfId}/${connection.connId}`;
  return {
    list: () => presence.list(now()),
    // With the store away, a connect still gets the rows last read (or at least this gateway's own), as
    // stale as presence may be, instead of a refusal for want of a list nobody needs to be exact.
    snapshot: () =>
      snapshots.get().catch(() =>
        snapshots.last() ??
          { rows: [selfPresence(selfId, options.host, now())], versions: core.noteVersions({}) }
      ),
    async addSelf() {
      snapshots.listen();
      await presence.upsert(`self:${selfId}`, selfPresence(selfId, options.host, now()), { pinned: true })
        .catch((error) => {
          // A start that fails here never stops: nothing may stay subscribed.
          snapshots.forget();
          throw error;
        });
    },
    async removeSelf() {
      snapshots.forget();
      await changes.settled();
      await presence.remove(`self:${selfId}`);
    },
    connected(connection) {
      // Closed while its hello-ok's early events were flushed (a slow consumer): its close already ran,
      // and a row written now would outlive it until its TTL.
      if (connection.isClosed || !showsPresence(connection)) return;
      const row = connectionPresence(connection, "connect", now());
      const owner = ownerOf(connection);
      queuedUpserts.add(owner);
      changes.apply(async () => {
        if (!queuedUpserts.delete(owner)) return false;
        await presence.upsert(presenceKey(connection), row, { owner });
      });
    },
    disconnected(connection) {
      if (!showsPresence(connection)) return;
      // A connection that closes before its row was written leaves nothing to write or remove (the
      // removal below only ever removes its own row): when connects outpace the store, the queue
      // then sheds them instead of draining a backlog for seconds after the churn stopped.
      if (queuedUpserts.delete(ownerOf(connection))) return;
      // Only the connection that wrote the row removes it: a device's older socket closing late must
      // not erase the row its newer socket holds, here or on another replica.
      changes.apply(() => presence.remove(presenceKey(connection), ownerOf(connection)));
    },
  };
}

/** Whether an authenticated connection gets a presence row (a client, and not a quiet mode). */
function showsPresence(connection: Connection): boolean {
  const client = connection.caller!.client;
  return Boolean(client) && !QUIET_PRESENCE_MODES.has(client!.mode);
}

/** The gateway's own pinned row. */
function selfPresence(selfId: string, host: GatewayOptions["host"], ts: number): PresenceEntry {
  const name = host?.name ?? "gateway";
  const entry: PresenceEntry = {
    host: name,
    version: GATEWAY_VERSION,
    platform: host?.platform ?? "unknown",
    mode: "gateway",
    reason: "self",
    instanceId: selfId,
    text: `Gateway: ${name} · app ${GATEWAY_VERSION} · mode gateway · reason self`,
    ts,
  };
  if (host?.ip && !isLoopbackAddress(host.ip)) entry.ip = host.ip;
  return entry;
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
