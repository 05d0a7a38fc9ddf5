/**
 * Turns a dead replica left waiting: one replica of the cluster (a singleton) looks at the turn queue every
 * third of `gateway.cluster.leaseTtlMs` and runs, in its place, the waiting turns of replicas the peers
 * registry no longer lists. Each such turn takes its session's lease first, which the dead replica's own
 * lease frees a lease TTL after it died. A turn that came from a channel or a hook keeps its delivery
 * target in the queue, so its reply is sent from the replica that runs it (`channels/replies.ts`). The same
 * job ends the running runs of dead replicas, once their sessions' leases are free (`AgentRuntime.endOrphanedRuns`).
 *
 * @module
 */
import type { PeerRegistry } from "../state/peers.ts";
import { pause, SINGLETON_LEASE_TTL_MS } from "../state/singleton.ts";
import type { GatewayContext } from "../types.ts";
import type { AgentRuntime } from "./runtime.ts";

/** Starts the cluster-wide job that resumes the waiting turns of dead replicas; it stops with the gateway. */
export function resumeOrphanedTurns(
  context: GatewayContext,
  runtime: AgentRuntime,
  peers: PeerRegistry,
): void {
  const logger = context.logger.child("turn-queue");
  context.runSingleton("turn-queue", async (signal) => {
    while (!signal.aborted) {
      try {
        const alive = new Set((await peers.list()).map((peer) => peer.replicaId));
        alive.add(context.replicaId);
        await runtime.endOrphanedRuns(alive);
        await runtime.resumeOrphans(alive);
      } catch (error) {
        logger.warn("could not check the turn queue", { error: String(error) });
      }
      const ttlMs = context.config().gateway?.cluster?.leaseTtlMs ?? SINGLETON_LEASE_TTL_MS;
      await pause(ttlMs / 3, signal);
    }
  });
}
