/**
 * Peers: the replicas of one gateway that are alive. Each replica announces itself every so often with a
 * TTL; one that stops announcing (it died, or lost the store) drops out of the list when its TTL runs out,
 * so `status` can say how many replicas serve the cluster without any of them saying goodbye.
 *
 * @module
 */
import { type ServiceKey, serviceKey } from "../services.ts";

/** One replica as it announced itself. */
export interface PeerRecord {
  /** The replica's id (its `hello-ok.server.bootId` and lease owner). */
  replicaId: string;
  /** The machine it runs on. */
  host: string;
  /** Its process id, when the host knows one. */
  pid?: number;
  /** The port it listens on, once it listens. */
  port?: number;
  /** When it started (ms since the epoch). */
  startedAt: number;
  /** When it last announced itself (ms since the epoch, on the store's clock). */
  lastSeenAt: number;
}

/** The replicas alive now. Every call is atomic. */
export interface PeerRegistry {
  /** Records `peer` (its `lastSeenAt` is set by the store), alive for `ttlMs` unless announced again. */
  announce(peer: Omit<PeerRecord, "lastSeenAt">, ttlMs: number): Promise<void>;
  /** Removes a replica at once (it stops gracefully). */
  remove(replicaId: string): Promise<void>;
  /** The replicas whose last announcement has not expired, oldest start first. */
  list(): Promise<PeerRecord[]>;
}

/**
 * The peers registry this replica is kept in (`stores.peers`), provided by `clusterModule`, which announces
 * the replica there. Only a registry someone keeps says which replicas died: without the cluster module
 * every other replica would look dead, so the modules that act on deaths wait for this key.
 */
export const CLUSTER_PEERS: ServiceKey<PeerRegistry> = serviceKey("cluster.peers");

interface Entry {
  peer: PeerRecord;
  expiresAt: number;
}

/** Peers in process memory (one process is one replica), judged against an injectable clock. */
export class MemoryPeerRegistry implements PeerRegistry {
  readonly #peers = new Map<string, Entry>();

  /** `now` is the clock expiry is judged against. */
  constructor(private readonly now: () => number = () => Date.now()) {}

  announce(peer: Omit<PeerRecord, "lastSeenAt">, ttlMs: number): Promise<void> {
    const now = this.now();
    this.#peers.set(peer.replicaId, { peer: { ...peer, lastSeenAt: now }, expiresAt: now + ttlMs });
    return Promise.resolve();
  }

  remove(replicaId: string): Promise<void> {
    this.#peers.delete(replicaId);
    return Promise.resolve();
  }

  list(): Promise<PeerRecord[]> {
    const now = this.now();
    for (const [id, entry] of this.#peers) if (entry.expiresAt <= now) this.#peers.delete(id);
    return Promise.resolve(sortPeers([...this.#peers.values()].map((entry) => ({ ...entry.peer }))));
  }
}

/** Oldest start first, then by id, so every replica lists the cluster in one order. */
export function sortPeers(peers: PeerRecord[]): PeerRecord[] {
  return peers.sort((a, b) => a.startedAt - b.startedAt || a.replicaId.localeCompare(b.replicaId));
}
