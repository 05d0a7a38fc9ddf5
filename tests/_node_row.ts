// The live row of one connected node that answers `device.info`, and the invokers of two replicas, for
// tests that invoke it directly.
import type { EventBus } from "../lib/bus/types.ts";
import { NodeInvoker } from "../lib/nodes/invoke.ts";
import type { NodeSession } from "../lib/state/nodes.ts";

/** Node "n1" on connection "c1", declaring `device.info`. */
export const DEVICE_INFO_NODE: NodeSession = {
  nodeId: "n1",
  connId: "c1",
  clientId: "x",
  clientMode: "node",
  caps: [],
  commands: ["device.info"],
  declaredCommands: [],
  connectedAtMs: 0,
};

/**
 * The invokers of replica "a", which asks (naming its invokes with `newId`), and replica "b", which holds
 * the node's connection "c1", over one `bus` that stands for Redis pub/sub.
 */
export function askerAndHolder(bus: EventBus, newId: () => string, now: () => number) {
  return {
    asker: new NodeInvoker({ bus, newId, holds: () => false, replicaId: "a", now }),
    holder: new NodeInvoker({
      bus,
      newId: () => "unused",
      holds: (connId) => connId === "c1",
      replicaId: "b",
      now,
    }),
  };
}
