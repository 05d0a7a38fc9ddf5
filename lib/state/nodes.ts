/**
 * Connected nodes (`role: "node"` clients): one row per node id, written by the replica that holds the
 * node's socket, so `node.list` and `node.invoke` on any replica see every node. A row names the
 * connection that wrote it; only that connection's replica removes it, so a node that reconnected
 * elsewhere keeps its newer row when the old socket closes late. Rows expire unless their writer puts
 * them again, so the nodes of a replica that died without cleaning up disappear by themselves.
 *
 * @module
 */

/** A connected node, as `node.list` and `node.invoke` read it. */
export interface NodeSession {
  /** The node's id: its device id. */
  nodeId: string;
  /** The socket the node is connected on (on whichever replica holds it). */
  connId: string;
  /** `connect.params.client.id`. */
  clientId: string;
  /** `connect.params.client.mode`. */
  clientMode: string;
  /** The name the node shows. */
  displayName?: string;
  /** The node's platform label (`iOS 18.1`, `macos`, `linux`). */
  platform?: string;
  /** The node app's version. */
  version?: string;
  /** The device family (`iPhone`, `Mac`). */
  deviceFamily?: string;
  /** The hardware model. */
  modelIdentifier?: string;
  /** The node's address, as the gateway attributes it. */
  remoteIp?: string;
  /** The capability categories it declared (`camera`, `screen`, ...). */
  caps: string[];
  /** The commands it may be invoked with: declared and allowed by the command policy. */
  commands: string[];
  /** The commands it declared, allowed or not. */
  declaredCommands: string[];
  /** Its permission toggles (`screenRecording: true`). */
  permissions?: Record<string, boolean>;
  /** Its `PATH`, as it reported it. */
  pathEnv?: string;
  /** When this connection authenticated (ms since the epoch). */
  connectedAtMs: number;
  /** When the node last said it is alive (`node.presence.alive`), if it did since connecting. */
  lastSeenAtMs?: number;
  /** The trigger it gave then (`background`, `silent_push`, ...). */
  lastSeenReason?: string;
}

/**
 * Where connected nodes live; in-process by default, shared across replicas by a network store. Every
 * read hands out copies, never the stored rows.
 */
export interface NodeStore {
  /** Records `node` (replacing any row of its id), to expire `ttlMs` from now unless put again. */
  put(node: NodeSession, ttlMs: number): Promise<void>;
  /**
   * Writes `node` again (to expire `ttlMs` from now) unless another connection's row has replaced it;
   * a row that lapsed is written anew. Resolves whether it wrote. One step, so a superseded socket's
   * refresh can never land over the row its node's newer socket wrote.
   */
  refresh(node: NodeSession, ttlMs: number): Promise<boolean>;
  /** Removes the row of `nodeId` if connection `connId` wrote it; resolves whether it did. */
  remove(nodeId: string, connId: string): Promise<boolean>;
  /** The live row of `nodeId`. */
  get(nodeId: string): Promise<NodeSession | undefined>;
  /** Every live row, in no particular order. */
  list(): Promise<NodeSession[]>;
}

/** How long a node row lives without being put again; its replica refreshes it well before. */
export const NODE_ROW_TTL_MS = 90_000;

/** The in-process node store; expiry runs on the clock it is given. */
export class MemoryNodeStore implements NodeStore {
  readonly #rows = new Map<string, { json: string; expiresAt: number }>();

  /** `now` is the clock expiry is judged on. */
  constructor(private readonly now: () => number = () => Date.now()) {}

  put(node: NodeSession, ttlMs: number): Promise<void> {
    this.#rows.set(node.nodeId, { json: JSON.stringify(node), expiresAt: this.now() + ttlMs });
    return Promise.resolve();
  }

  refresh(node: NodeSession, ttlMs: number): Promise<boolean> {
    const row = this.#live(node.nodeId);
    if (row && (JSON.parse(row) as NodeSession).connId !== node.connId) return Promise.resolve(false);
    return this.put(node, ttlMs).then(() => true);
  }

  remove(nodeId: string, connId: string): Promise<boolean> {
    const row = this.#live(nodeId);
    if (!row || (JSON.parse(row) as NodeSession).connId !== connId) return Promise.resolve(false);
    return Promise.resolve(this.#rows.delete(nodeId));
  }

  get(nodeId: string): Promise<NodeSession | undefined> {
    const row = this.#live(nodeId);
    return Promise.resolve(row === undefined ? undefined : JSON.parse(row));
  }

  list(): Promise<NodeSession[]> {
    const rows = [...this.#rows.keys()].map((id) => this.#live(id)).filter((row) => row !== undefined);
    return Promise.resolve(rows.map((row) => JSON.parse(row)));
  }

  #live(nodeId: string): string | undefined {
    const row = this.#rows.get(nodeId);
    if (row && row.expiresAt <= this.now()) this.#rows.delete(nodeId);
    return row && row.expiresAt > this.now() ? row.json : undefined;
  }
}
