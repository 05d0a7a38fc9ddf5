/**
 * Event fan-out: delivers each bus event to the authenticated connections it is addressed to and whose
 * scopes allow it, with the state versions `presence` and `health` events carry.
 *
 * @module
 */
import { scopeSatisfied } from "../protocol/scopes.ts";
import type { BusEvent } from "../types.ts";
import type { Connection } from "../ws/connection.ts";
import type { GatewayCore } from "./core.ts";

/** What fan-out needs of a connection. */
export type FanOutTarget = Pick<Connection, "ready" | "connId" | "caller" | "sendEvent">;

/** The bus listener that sends each event on to `connections`. */
export function fanOut(
  connections: Iterable<FanOutTarget>,
  stateVersion: GatewayCore["stateVersion"],
): (event: BusEvent) => void {
  return (event: BusEvent) => {
    const versions = event.event === "presence" || event.event === "health" ? { ...stateVersion } : undefined;
    for (const connection of connections) {
      if (!connection.ready) continue;
      if (event.connIds && !event.connIds.includes(connection.connId)) continue;
      if (event.scope && !scopeSatisfied(connection.caller!.scopes, event.scope)) continue;
      connection.sendEvent(event.event, event.payload, versions, event.dropIfSlow);
    }
  };
}
