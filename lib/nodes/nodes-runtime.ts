/**
 * The part of nodes the module imports once a node connects or a `node.*` method is called: the registry
 * of this replica's node sockets (refreshed on a timer while loaded), the invoker, and the methods with
 * their schemas. A gateway no node ever connects to keeps none of it.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { AnyMethod } from "../methods/descriptor.ts";
import { NODE_ROW_TTL_MS } from "../state/nodes.ts";
import { CLUSTER_PEERS, type PeerRegistry } from "../state/peers.ts";
import type { GatewayContext } from "../types.ts";
import { NodeInvoker } from "./invoke.ts";
import { nodeMethods } from "./methods.ts";
import { NodeRegistry } from "./registry.ts";

/** Loaded nodes. */
export interface NodesRuntime {
  registry: NodeRegistry;
  methods: readonly AnyMethod[];
  /** A node socket closed: fail its pending invokes and remove its row. */
  disconnected(connId: string): void;
  /** Stops the refresh timer, the pairing follower and pending invokes. */
  stop(): void;
}

/**
 * Builds the registry, invoker and methods over the module's context. With `clusterModule` keeping the
 * peers, this replica forgets the invokes a replica which has died asked of its nodes within a minute or
 * so, instead of at the invoke's deadline.
 */
export function startNodes(context: GatewayContext): NodesRuntime {
  let peers: PeerRegistry | undefined;
  context.whenProvided(CLUSTER_PEERS, (kept) => peers = kept);
  const logger = context.logger.child("nodes");
  const store = context.stores.nodes;
  const config = () => context.config();
  const now = () => context.now();
  const registry = new NodeRegistry({ store, devices: context.stores.devices, config, now, logger });
  const invoker = new NodeInvoker({
    bus: context.bus,
    newId: () => crypto.randomUUID(),
    holds: (connId) => registry.local(connId) !== undefined,
    replicaId: context.replicaId,
    now,
  });
  const refresh = () =>
    registry.refresh().catch((error) => logger.warn("node rows refresh failed", { error: String(error) }));
  const timer = setInterval(() => {
    refresh();
    sweepInvokes(invoker, peers);
  }, NODE_ROW_TTL_MS / 3);
  const stopConfig = context.onConfigChange(refresh);
  const stopPairing = followNodePairing(context, registry, logger);
  return {
    registry,
    methods: nodeMethods({ store, registry, invoker, config, now }),
    disconnected(connId) {
      invoker.disconnected(connId);
      registry.disconnected(connId).catch((error) =>
        logger.warn("node row removal failed", { connId, error: String(error) })
      );
    },
    stop() {
      clearInterval(timer);
      stopConfig();
      stopPairing();
      invoker.stop();
    },
  };
}

/** Forgets expired invokes, and those of replicas gone from `peers` (when the peers can be read now). */
async function sweepInvokes(invoker: NodeInvoker, peers: PeerRegistry | undefined): Promise<void> {
  const alive = peers && invoker.holdsForOthers()
    ? await peers.list().then((list) => new Set(list.map((peer) => peer.replicaId)), () => undefined)
    : undefined;
  invoker.sweep(alive);
}

/**
 * Re-evaluates this replica's sockets of a node whose pairing an operator resolved (on any replica), so
 * an approval takes effect on the live connection and a removal withdraws its commands at once.
 */
function followNodePairing(context: GatewayContext, registry: NodeRegistry, logger: Logger): () => void {
  return context.bus.subscribe((event) => {
    // The copies addressed to nodes (below) are not news to act on again.
    if (event.internal || event.connIds || event.event !== "node.pair.resolved") return;
    const resolved = event.payload as { nodeId?: unknown; decision?: unknown };
    if (typeof resolved.nodeId !== "string" || !resolved.nodeId) return;
    registry.repaired(resolved.nodeId).then((connIds) => {
      // As the reference, a live node hears of its own approval once its commands follow it.
      if (resolved.decision !== "approved" || !connIds.length) return;
      context.bus.publish({ event: "node.pair.resolved", payload: event.payload, connIds });
    }).catch((error) =>
      logger.warn("node surface refresh failed", { nodeId: resolved.nodeId, error: String(error) })
    );
  });
}
