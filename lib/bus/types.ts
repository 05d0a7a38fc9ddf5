/**
 * The event bus contract. Events carry their audience instead of a list of sockets, so a bus shared by
 * several replicas (Redis/Valkey) can carry them and each replica picks its own recipients on delivery.
 *
 * @module
 */
import type { MethodScope } from "../protocol/scopes.ts";

/**
 * An event as it leaves the bus, before it becomes a wire frame. Without `connIds`, `topics` or
 * `internal` it goes to every socket whose scopes satisfy `scope`.
 */
export interface BusEvent {
  /** The event name on the wire (`chat`, `session.message`, ...). */
  event: string;
  /** The event frame's payload; plain JSON, so a shared bus can carry it. */
  payload: unknown;
  /** Only sockets whose scopes satisfy this receive it; `none` (the default) means everyone. */
  scope?: MethodScope;
  /**
   * Only these sockets of the publishing process receive it. Connection ids mean nothing to another
   * replica, so a shared bus delivers such an event locally only.
   */
  connIds?: readonly string[];
  /** Only sockets subscribed to at least one of these topics (on any replica) receive it. */
  topics?: readonly string[];
  /**
   * The session the event belongs to: a shared bus keeps the events of one session key in publish
   * order (e.g. one stream per key).
   */
  sessionKey?: string;
  /** Meant for gateway code on every replica (run ended, abort a run), never for a socket. */
  internal?: boolean;
  /**
   * For this process's sockets only; a shared bus does not carry it to other replicas (e.g.
   * `config.changed`: every replica announces its own reload).
   */
  local?: boolean;
  /**
   * The state versions after the change this event announces (`presence`, `health`), so a replica that
   * did not make the change stamps the event with them rather than with its own older counters.
   */
  stateVersion?: { presence?: number; health?: number };
  /** Droppable events (ticks, deltas) are skipped for slow consumers instead of closing them. */
  dropIfSlow?: boolean;
}

/** The gateway's event bus. In-process by default; a shared implementation fans out across replicas. */
export interface EventBus {
  /** Hands the event to every listener (of every replica, for a shared bus). Ignored once closed. */
  publish(event: BusEvent): void;
  /** Adds a listener; returns the function that removes it. Listeners added after `close()` never run. */
  subscribe(listener: (event: BusEvent) => void): () => void;
  /**
   * A shared bus's link to the other replicas: a number that stays the same for as long as every event
   * published anywhere reaches this bus's listeners, and `undefined` while they may miss some (its
   * connection is down). What a process keeps current from events holds only while it stays the same.
   * Unset on a bus that misses nothing (the in-process one).
   */
  link?(): number | undefined;
  /**
   * Resolves once every event published before the call has reached the shared bus (a shared bus only;
   * the in-process one delivers at once). Never rejects: a failed publish is the bus's to report.
   */
  flush?(): Promise<void>;
  /**
   * Publishes `events`, in order, only if `guard` holds when the shared bus runs the publish: it runs
   * behind the store writes sent before it on the same connection, so a turn's end events go in the batch
   * of the writes they announce (one round trip), and reach no one unless those writes landed. Resolves
   * whether it published them (`false`: nothing was published); rejects when the bus could not be reached
   * (nothing is delivered here then, not even later). Unset on a bus that cannot check a guard (the
   * in-process one): its callers write first, then publish.
   */
  publishIfHeld?(events: readonly BusEvent[], guard: PublishGuard): Promise<boolean>;
  /** Drops every listener and stops delivering; resolves once the bus let go of its resources. */
  close(): Promise<void>;
}

/** What must hold for {@link EventBus.publishIfHeld} to publish. */
export interface PublishGuard {
  /** The lease, by its `LeaseStore` key, that must be held, unexpired... */
  lease: string;
  /** ...by this owner (the one its holder passed to `acquire`), as a transcript's `AppendGuard` says. */
  owner: string;
  /** A transcript line that must be in place: line number `seq` of the transcript has the id `id`. */
  line?: { agentId: string; sessionId: string; seq: number; id: string };
}
