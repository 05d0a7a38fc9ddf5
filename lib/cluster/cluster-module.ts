/**
 * The cluster module: this replica announces itself in the peers registry (`stores.peers`) every third of
 * `gateway.cluster.leaseTtlMs` (so it drops out of the list within one TTL of dying), takes itself out when
 * it stops, and adds a `cluster` section to the `status` method: the backend, this replica, and the peers
 * alive (read again for each answer).
 *
 * @module
 */
import { CLUSTER_PEERS, type PeerRecord } from "../state/peers.ts";
import { SINGLETON_LEASE_TTL_MS } from "../state/singleton.ts";
import type { StoresBackend } from "../state/stores.ts";
import type { GatewayContext, GatewayModule } from "../types.ts";

/** Where the shared state lives, as `status` shows it. */
export type ClusterBackend = StoresBackend;

/** Options for {@link clusterModule}. */
export interface ClusterModuleOptions {
  /** What `status` names as the backend; by default the one the gateway's stores describe, else in-process. */
  backend?: ClusterBackend;
  /** This process as its host knows it (the core touches no runtime global). */
  self?: { host?: string; pid?: number };
}

/** The `cluster` section of the `status` result. */
export interface ClusterStatus {
  /** Where the shared state lives. */
  backend: "in-process" | "redis";
  /** The Redis (URL without credentials), and whether this replica is connected to it now. */
  redis?: { url: string; keyPrefix: string; connected: boolean };
  /** This replica (`hello-ok.server.bootId`). */
  replicaId: string;
  /** The peers alive at `checkedAt`, this replica included once it announced itself. */
  peers: PeerRecord[];
  /** How many replicas are alive (the length of `peers`). */
  peersAlive: number;
  /** When the peers were last read (ms since the epoch); null before the first announcement. */
  checkedAt: number | null;
  /** Why the last announcement failed, while it does. */
  error?: string;
}

/**
 * Creates the cluster module.
 *
 * @example One process is a cluster of one
 * ```ts
 * import { clusterModule, createGateway } from "@openclaw-ts/gateway";
 *
 * const gateway = createGateway({
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [clusterModule()],
 * });
 * await gateway.start();
 * const { cluster } = await gateway.call("status", {}) as { cluster: { backend: string; peersAlive: number } };
 * if (cluster.backend !== "in-process" || cluster.peersAlive !== 1) throw new Error(JSON.stringify(cluster));
 * await gateway.stop();
 * ```
 */
export function clusterModule(options: ClusterModuleOptions = {}): GatewayModule {
  return {
    name: "cluster",
    async setup(ctx) {
      const backend = options.backend ?? ctx.stores.backend ?? { kind: "in-process" };
      const peers = ctx.stores.peers;
      const startedAt = ctx.now();
      const seen: { peers: PeerRecord[]; checkedAt: number | null; error?: string } = {
        peers: [],
        checkedAt: null,
      };
      const ttlMs = () => ctx.config().gateway?.cluster?.leaseTtlMs ?? SINGLETON_LEASE_TTL_MS;
      const look = async () => Object.assign(seen, { peers: await peers.list(), checkedAt: ctx.now() });
      const announce = async () => {
        try {
          const port = ctx.listeningAddress()?.port;
          await peers.announce({
            replicaId: ctx.replicaId,
            host: options.self?.host ?? "gateway",
            ...(options.self?.pid !== undefined ? { pid: options.self.pid } : {}),
            ...(port !== undefined ? { port } : {}),
            startedAt,
          }, ttlMs());
          await look();
          seen.error = undefined;
        } catch (error) {
          if (seen.error === undefined) {
            ctx.logger.warn("cluster: announcing this replica failed", { error: String(error) });
          }
          seen.error = error instanceof Error ? error.message : String(error);
        }
      };
      const beat = heartbeat(announce, () => ttlMs() / 3);
      // Read again for each answer, so a replica that joined since the last announcement is counted; while
      // the store is away, the last list stands.
      ctx.addStatusSection(async ({ admin }) => {
        await look().catch(() => {});
        return { cluster: clusterStatus(ctx, backend, seen, admin) };
      });
      ctx.provide(CLUSTER_PEERS, peers);
      ctx.onStop(async () => {
        await beat.stop();
        await peers.remove(ctx.replicaId).catch(() => {});
      });
      await announce();
    },
  };
}

function clusterStatus(
  ctx: GatewayContext,
  backend: ClusterBackend,
  seen: { peers: PeerRecord[]; checkedAt: number | null; error?: string },
  admin: boolean,
): ClusterStatus {
  const status: ClusterStatus = {
    backend: backend.kind,
    replicaId: ctx.replicaId,
    // Hosts, pids and ports, like `status.bind`, are sensitive on shared hosts: admins only.
    peers: admin ? seen.peers : [],
    peersAlive: seen.peers.length,
    checkedAt: seen.checkedAt,
  };
  if (backend.kind === "redis" && admin) {
    status.redis = { url: backend.url, keyPrefix: backend.keyPrefix, connected: backend.connected() };
  }
  if (seen.error !== undefined) status.error = seen.error;
  return status;
}

/** Calls `beat` every `intervalMs()` (read again each time, so a reload applies) until stopped. */
function heartbeat(beat: () => Promise<void>, intervalMs: () => number): { stop(): Promise<void> } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const next = () => {
    timer = setTimeout(() => {
      running = beat().finally(() => stopped || next());
    }, intervalMs());
  };
  next();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
