/**
 * `node.invoke` across replicas. The replica an operator asked publishes the request on the bus (an
 * internal event); the replica holding the node's socket sends the node its `node.invoke.request`,
 * takes the node's `node.invoke.result` and publishes the outcome, and the asking replica answers with
 * it. The holder also settles what it handed a node that disconnects, so the caller hears `DISCONNECTED`
 * at once rather than waiting out the timeout; only a holder that dies leaves an invoke to its timeout.
 * Every invoke has a deadline on both replicas (an untimed one too, {@link UNTIMED_INVOKE_LIMIT_MS}): the
 * holder forgets what it handed once the deadline is past or once the asking replica has left the peers,
 * so neither a dead asker nor a cancel lost while the bus was down leaves it pending for ever.
 *
 * @module
 */
import type { EventBus } from "../bus/types.ts";
import type { NodeSession } from "../state/nodes.ts";

/** How long `node.invoke` waits for a node that was given no `timeoutMs`. */
export const DEFAULT_INVOKE_TIMEOUT_MS = 30_000;

/**
 * How long an invoke given `timeoutMs: 0` waits: as long as the node stays connected, up to this (an
 * hour), so that one whose answer can no longer arrive (its holder died) or be taken (its asker died)
 * does not stay pending on either replica for ever.
 */
export const UNTIMED_INVOKE_LIMIT_MS = 60 * 60_000;

/** The longest `node.invoke` wait: a timer's limit, less a margin for the replica holding the node. */
const MAX_INVOKE_TIMEOUT_MS = 2 ** 31 - 1 - 5_000;

/** How a node answered (or why it could not). */
export interface InvokeOutcome {
  ok: boolean;
  payload?: unknown;
  payloadJSON?: string;
  error?: { code?: string; message?: string };
}

/** One invoke as the asking replica hands it on. */
export interface InvokeRequest {
  node: NodeSession;
  command: string;
  params?: unknown;
  /**
   * Milliseconds the node has; 0 waits while the node stays connected, up to
   * {@link UNTIMED_INVOKE_LIMIT_MS}.
   */
  timeoutMs: number;
  idempotencyKey?: string;
  sessionKey?: string;
}

/** What a node sends back in `node.invoke.result`. */
export interface InvokeResult extends InvokeOutcome {
  id: string;
  nodeId: string;
}

const DISPATCH = "nodes.invoke.dispatch";
const SETTLED = "nodes.invoke.settled";
const CANCEL = "nodes.invoke.cancel";
const CANCELLED: InvokeOutcome = { ok: false, error: { code: "ABORTED", message: "node invoke cancelled" } };
/** The holder forgets an invoke this long after its deadline, in case the asking replica vanished. */
const FORGET_GRACE_MS = 5_000;

interface Dispatch {
  id: string;
  nodeId: string;
  connId: string;
  request: Record<string, unknown>;
  /** How long the asker waits (never 0). */
  timeoutMs: number;
  /** The asking replica. */
  from: string;
}

interface Handed {
  nodeId: string;
  connId: string;
  command: string;
  from: string;
  expiresAt: number;
}

/** What the invoker needs of the gateway. */
export interface NodeInvokerDeps {
  bus: EventBus;
  newId(): string;
  /** Whether this replica holds the socket `connId`. */
  holds(connId: string): boolean;
  /** This replica's id, which the holder checks against the peers alive. */
  replicaId: string;
  /** The gateway clock, in epoch milliseconds. */
  now(): number;
}

/** Starts invokes, relays them to local nodes, and settles them; see the module doc. */
export class NodeInvoker {
  /** Invokes this replica started, by id. */
  readonly #waiting = new Map<string, (outcome: InvokeOutcome) => void>();
  /** Invokes this replica handed to one of its nodes, by id. */
  readonly #handed = new Map<string, Handed>();
  readonly #unsubscribe: () => void;

  /** Listens on `deps.bus` until {@link NodeInvoker.stop}. */
  constructor(private readonly deps: NodeInvokerDeps) {
    this.#unsubscribe = deps.bus.subscribe((event) => {
      if (!event.internal) return;
      if (event.event === DISPATCH) this.#relay(event.payload as Dispatch);
      else if (event.event === CANCEL) this.#handed.delete((event.payload as { id: string }).id);
      else if (event.event === SETTLED) {
        const { id, outcome } = event.payload as { id: string; outcome: InvokeOutcome };
        this.#waiting.get(id)?.(outcome);
      }
    });
  }

  /** Sends `request` to its node and resolves with the node's answer, a timeout, or the disconnect. */
  invoke(request: InvokeRequest, signal: AbortSignal): Promise<InvokeOutcome> {
    const id = this.deps.newId();
    const { node, command } = request;
    // Past a timer's 2^31-1 ms limit the runtime fires at once: a longer wait is cut to that limit (less
    // the holding replica's margin) instead of timing out the moment the node got the request.
    const asked = Math.min(request.timeoutMs, MAX_INVOKE_TIMEOUT_MS);
    const timeoutMs = asked > 0 ? asked : UNTIMED_INVOKE_LIMIT_MS;
    const wire: Record<string, unknown> = { id, nodeId: node.nodeId, command, timeoutMs: asked };
    if (request.params !== undefined) wire.paramsJSON = JSON.stringify(request.params);
    if (request.idempotencyKey) wire.idempotencyKey = request.idempotencyKey;
    if (request.sessionKey) wire.sessionKey = request.sessionKey;
    return new Promise((resolve) => {
      // The holder forgets it too, rather than at its deadline.
      const onAbort = () => {
        settle(CANCELLED);
        this.deps.bus.publish({ event: CANCEL, payload: { id }, internal: true });
      };
      const timer = setTimeout(
        () => settle({ ok: false, error: { code: "TIMEOUT", message: "node invoke timed out" } }),
        timeoutMs,
      );
      const settle = (outcome: InvokeOutcome) => {
        if (!this.#waiting.delete(id)) return;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        resolve(outcome);
      };
      this.#waiting.set(id, settle);
      signal.addEventListener("abort", onAbort, { once: true });
      if (signal.aborted) return onAbort();
      const dispatch: Dispatch = {
        id,
        nodeId: node.nodeId,
        connId: node.connId,
        request: wire,
        timeoutMs,
        from: this.deps.replicaId,
      };
      this.deps.bus.publish({ event: DISPATCH, payload: dispatch, internal: true });
    });
  }

  /**
   * Takes a node's `node.invoke.result` from socket `connId`; false when no invoke of that node on that
   * socket is waiting for it (late, or not its own).
   */
  result(connId: string, result: InvokeResult): boolean {
    const handed = this.#handed.get(result.id);
    if (!handed || handed.nodeId !== result.nodeId || handed.connId !== connId) return false;
    const outcome: InvokeOutcome = { ok: result.ok };
    if (result.payload !== undefined) outcome.payload = result.payload;
    if (result.payloadJSON !== undefined) outcome.payloadJSON = result.payloadJSON;
    if (result.error) outcome.error = result.error;
    this.#settle(result.id, outcome);
    return true;
  }

  /** Fails what this replica handed the node on `connId`, which has disconnected. */
  disconnected(connId: string): void {
    for (const [id, handed] of this.#handed) {
      if (handed.connId !== connId) continue;
      const message = `node disconnected (${handed.command})`;
      this.#settle(id, { ok: false, error: { code: "DISCONNECTED", message } });
    }
  }

  /** Whether this replica holds invokes that another replica asked for (worth reading the peers for). */
  holdsForOthers(): boolean {
    for (const handed of this.#handed.values()) if (handed.from !== this.deps.replicaId) return true;
    return false;
  }

  /**
   * Forgets what this replica handed its nodes past the deadline, and (given the replicas alive) what a
   * replica no longer alive asked for: nobody waits for those answers any more.
   */
  sweep(alive?: ReadonlySet<string>): void {
    const now = this.deps.now();
    for (const [id, handed] of this.#handed) {
      const askerGone = alive && handed.from !== this.deps.replicaId && !alive.has(handed.from);
      if (askerGone || handed.expiresAt <= now) this.#handed.delete(id);
    }
  }

  /** Stops listening and cancels what is still waiting. */
  stop(): void {
    this.#unsubscribe();
    for (const settle of [...this.#waiting.values()]) settle(CANCELLED);
    this.#handed.clear();
  }

  /** On the replica holding the node's socket: remembers the invoke and sends the node its request. */
  #relay(dispatch: Dispatch): void {
    if (!this.deps.holds(dispatch.connId)) return;
    this.#handed.set(dispatch.id, {
      nodeId: dispatch.nodeId,
      connId: dispatch.connId,
      command: String(dispatch.request.command),
      from: dispatch.from,
      // A replica of an older version sends an untimed invoke as 0.
      expiresAt: this.deps.now() + (dispatch.timeoutMs || UNTIMED_INVOKE_LIMIT_MS) + FORGET_GRACE_MS,
    });
    this.deps.bus.publish({
      event: "node.invoke.request",
      payload: dispatch.request,
      connIds: [dispatch.connId],
    });
  }

  #settle(id: string, outcome: InvokeOutcome): void {
    this.#handed.delete(id);
    this.deps.bus.publish({ event: SETTLED, payload: { id, outcome }, internal: true });
  }
}
