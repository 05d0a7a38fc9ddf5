/**
 * A connected node as `node.list` and `node.describe` show it (the reference's `NodeListNode`), and their
 * order: connected first, then by display name, then by id.
 *
 * @module
 */
import type { NodeSession } from "../state/nodes.ts";

/** The `node.list` row of a connected node. */
export function nodeRow(node: NodeSession): Record<string, unknown> {
  const seenAlive = node.lastSeenAtMs !== undefined && node.lastSeenAtMs > node.connectedAtMs;
  const row: Record<string, unknown> = {
    nodeId: node.nodeId,
    displayName: node.displayName,
    platform: node.platform,
    version: node.version,
    clientId: node.clientId,
    clientMode: node.clientMode,
    deviceFamily: node.deviceFamily,
    modelIdentifier: node.modelIdentifier,
    remoteIp: node.remoteIp,
    caps: [...new Set(node.caps)].sort(),
    commands: [...new Set(node.commands)].sort(),
    pathEnv: node.pathEnv,
    permissions: node.permissions,
    connectedAtMs: node.connectedAtMs,
    lastConnectedAtMs: node.connectedAtMs,
    lastSeenAtMs: seenAlive ? node.lastSeenAtMs : node.connectedAtMs,
    lastSeenReason: seenAlive ? node.lastSeenReason : "connect",
    // Its device proved its key and is paired; a node without one is never registered.
    paired: true,
    connected: true,
  };
  for (const key of Object.keys(row)) if (row[key] === undefined) delete row[key];
  return row;
}

/** `nodes` in the order the reference lists them. */
export function sortNodes(nodes: NodeSession[]): NodeSession[] {
  const name = (node: NodeSession) => (node.displayName ?? node.nodeId).toLowerCase();
  return nodes.toSorted((a, b) =>
    name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : a.nodeId.localeCompare(b.nodeId)
  );
}
