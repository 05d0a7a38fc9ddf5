// The live row of one connected node that answers `device.info`, for tests that invoke it directly.
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
