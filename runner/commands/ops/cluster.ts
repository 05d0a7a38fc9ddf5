/**
 * The cluster as `gateway status` and `status` show it: the `cluster` section of the gateway's `status`
 * method (backend, this replica, the peers alive), read once and put into one line.
 *
 * @module
 */
import type { ClusterStatus } from "../../../lib/cluster/cluster-module.ts";
import { openConnection, OWNER_SCOPES } from "./connect.ts";
import type { OpsHost } from "./host.ts";
import type { GatewayTarget } from "./target.ts";

/** The `cluster` section as the CLI reads it (a gateway without the cluster module has none). */
export type ClusterView = ClusterStatus;

/** The `cluster` section of a `status` result, when it has one. */
export function clusterOf(status: Record<string, unknown> | undefined): ClusterView | undefined {
  const cluster = status?.cluster as ClusterView | undefined;
  return cluster && typeof cluster.backend === "string" ? cluster : undefined;
}

/** Asks the gateway at `target` for its `status` and returns its cluster section; undefined when it cannot. */
export async function readCluster(
  host: OpsHost,
  target: GatewayTarget,
  timeoutMs: number,
): Promise<ClusterView | undefined> {
  try {
    const connection = await openConnection(host, target, timeoutMs, OWNER_SCOPES);
    try {
      return clusterOf(await connection.request<Record<string, unknown>>("status", {}, { timeoutMs }));
    } finally {
      connection.close();
    }
  } catch {
    return undefined;
  }
}

/** `redis redis://10.0.0.5:6379/0 (prefix openclaw:) · replica 1b87b819 · 3 peers alive`. */
export function clusterLine(cluster: ClusterView): string {
  const backend = cluster.redis
    ? `redis ${cluster.redis.url} (prefix ${cluster.redis.keyPrefix}${
      cluster.redis.connected ? "" : ", disconnected"
    })`
    : cluster.backend;
  const peers = `${cluster.peersAlive} ${cluster.peersAlive === 1 ? "replica" : "replicas"} alive`;
  const others = cluster.peers.filter((p) => p.replicaId !== cluster.replicaId)
    .map((p) => `${p.host}${p.port ? `:${p.port}` : ""}${p.pid ? ` pid ${p.pid}` : ""}`);
  return [
    backend,
    `replica ${cluster.replicaId.slice(0, 8)}`,
    others.length ? `${peers} (also ${others.join(", ")})` : peers,
    ...(cluster.error ? [`announce failing: ${cluster.error}`] : []),
  ].join(" · ");
}
