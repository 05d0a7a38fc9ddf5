/**
 * Who can answer an exec approval, as the reference decides it: a socket holding `operator.admin` or
 * `operator.approvals` that is an approval client (OpenClaw's Control UI or mobile/desktop apps, or any
 * client declaring the `approvals` / `exec-approvals` cap). Other replicas' sockets are known only by their
 * presence rows (scopes, no caps; written at connect and kept five minutes), so there scopes alone count.
 *
 * @module
 */
import type { PresenceStore } from "../state/presence.ts";
import type { Connection } from "../ws/connection.ts";

const APPROVAL_CLIENT_IDS = new Set([
  "openclaw-control-ui",
  "openclaw-macos",
  "openclaw-ios",
  "openclaw-android",
]);
const APPROVAL_CAPS = ["approvals", "exec-approvals"];

function answers(scopes: readonly string[] | undefined, adminOnly: boolean): boolean {
  return !!scopes &&
    (scopes.includes("operator.admin") || (!adminOnly && scopes.includes("operator.approvals")));
}

function approvalClient(connection: Connection): boolean {
  const caps = connection.caps ?? [];
  return APPROVAL_CLIENT_IDS.has(connection.caller?.client?.id ?? "") ||
    caps.some((cap) => APPROVAL_CAPS.includes(cap));
}

/**
 * Whether someone other than the `requester` socket could answer; `adminOnly` for a request bound to its
 * requester, which only admins (and the requester) see.
 */
export function approvalClientsOnline(
  connections: Iterable<Connection>,
  presence: PresenceStore,
  now: () => number,
): (requester: string, adminOnly: boolean) => Promise<boolean> {
  return async (requester, adminOnly) => {
    let local = 0;
    for (const connection of connections) {
      if (!connection.ready || !answers(connection.caller?.scopes, adminOnly)) continue;
      if (connection.connId !== requester && approvalClient(connection)) return true;
      local++;
    }
    // Rows beyond this process's own answering sockets belong to other replicas.
    const rows = (await presence.list(now())).filter((row) => answers(row.scopes, adminOnly));
    return rows.length > local;
  };
}
