/**
 * This replica's connected nodes: the row each one gets in `stores.nodes` when its socket authenticates,
 * refreshed while it stays (and when the config changes the command policy or an operator resolves its
 * node pairing), removed when it leaves. A row's commands are the declared ones that the node's approved
 * surface (its device record in `stores.devices`) holds and the command policy allows.
 *
 * @module
 */
import type { GatewayConfig } from "../config/schema.ts";
import { GatewayError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { approvedNodeCommands, nodeClientFacts } from "../methods/node-pairing.ts";
import type { DeviceStore } from "../state/devices.ts";
import { NODE_ROW_TTL_MS, type NodeSession, type NodeStore } from "../state/nodes.ts";
import type { ConnectedClient } from "../types.ts";
import { effectiveCommands } from "./command-policy.ts";

/** What the registry needs of the gateway. */
export interface NodeRegistryDeps {
  store: NodeStore;
  /** The paired devices, whose node surface approvals the rows follow. */
  devices: DeviceStore;
  config(): GatewayConfig;
  now(): number;
  logger: Logger;
}

/** The nodes whose sockets this replica holds, and their rows in the shared store. */
export class NodeRegistry {
  /** By connection id. */
  readonly #local = new Map<string, NodeSession>();

  /** Writes through `deps.store`. */
  constructor(private readonly deps: NodeRegistryDeps) {}

  /**
   * Registers a socket that authenticated with role `node`. As the reference, a node needs a device
   * identity: its node id is its device id.
   */
  async connected({ caller, connect }: ConnectedClient): Promise<void> {
    if (caller.role !== "node") return;
    if (!caller.deviceId) {
      throw new GatewayError("NOT_PAIRED", "device identity required", {
        details: { code: "DEVICE_IDENTITY_REQUIRED" },
      });
    }
    const session: NodeSession = {
      nodeId: caller.deviceId,
      connId: caller.connId,
      ...nodeClientFacts(connect.client, caller.remoteAddress),
      caps: [...new Set(connect.caps ?? [])],
      declaredCommands: [...new Set(connect.commands ?? [])],
      commands: [],
      permissions: booleans(connect.permissions),
      pathEnv: typeof connect.pathEnv === "string" ? connect.pathEnv : undefined,
      connectedAtMs: this.deps.now(),
    };
    for (const key of Object.keys(session) as (keyof NodeSession)[]) {
      if (session[key] === undefined) delete session[key];
    }
    session.commands = await this.#effective(session);
    this.#local.set(caller.connId, session);
    await this.deps.store.put(session, NODE_ROW_TTL_MS);
    this.deps.logger.info("node connected", {
      nodeId: session.nodeId,
      connId: session.connId,
      platform: session.platform,
      commands: session.commands.length,
    });
  }

  /** Forgets a node socket that closed; resolves once its row is gone (unless a newer socket owns it). */
  async disconnected(connId: string): Promise<void> {
    const session = this.#local.get(connId);
    if (!session) return;
    this.#local.delete(connId);
    await this.deps.store.remove(session.nodeId, connId);
    this.deps.logger.info("node disconnected", { nodeId: session.nodeId, connId });
  }

  /** The node on this replica's socket `connId`. */
  local(connId: string): NodeSession | undefined {
    return this.#local.get(connId);
  }

  /** Notes that the node on `connId` said it is alive, for `lastSeenAtMs` in `node.list`. */
  async seen(connId: string, reason: string): Promise<boolean> {
    const session = this.#local.get(connId);
    if (!session) return false;
    session.lastSeenAtMs = this.deps.now();
    session.lastSeenReason = reason;
    await this.#rewrite(session);
    return true;
  }

  /**
   * Writes every local row again: keeps them from expiring and applies the current command policy and
   * node surface approvals.
   */
  async refresh(): Promise<void> {
    for (const session of this.#local.values()) {
      session.commands = await this.#effective(session);
      await this.#rewrite(session);
    }
  }

  /**
   * Applies the node pairing of `nodeId` as it now stands to its sockets on this replica (an operator
   * approved, rejected or removed it); resolves the connection ids whose rows were rewritten.
   */
  async repaired(nodeId: string): Promise<string[]> {
    const rewritten: string[] = [];
    for (const session of this.#local.values()) {
      if (session.nodeId !== nodeId) continue;
      session.commands = await this.#effective(session);
      if (await this.#rewrite(session)) rewritten.push(session.connId);
    }
    if (rewritten.length) this.deps.logger.info("node surface refreshed", { nodeId, connIds: rewritten });
    return rewritten;
  }

  /** What the node may be invoked with now: declared ∩ approved surface ∩ command policy. */
  async #effective(session: NodeSession): Promise<string[]> {
    const device = await this.deps.devices.get(session.nodeId);
    const approved = device ? approvedNodeCommands(device, session.declaredCommands) : [];
    return effectiveCommands(this.deps.config(), session, new Set(approved));
  }

  /**
   * Puts a row again unless the node has since connected on another socket (here or on another
   * replica): the older socket still answers what it was handed, but the row is the newer one's.
   */
  #rewrite(session: NodeSession): Promise<boolean> {
    return this.deps.store.refresh(session, NODE_ROW_TTL_MS);
  }
}

/** The boolean toggles of a `permissions` map; anything else a client put there is dropped. */
function booleans(permissions: Record<string, unknown> | undefined): Record<string, boolean> | undefined {
  if (!permissions) return undefined;
  return Object.fromEntries(
    Object.entries(permissions).filter((entry): entry is [string, boolean] => typeof entry[1] === "boolean"),
  );
}
