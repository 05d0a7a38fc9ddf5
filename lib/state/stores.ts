/**
 * The `stores` bundle: every piece of state that replicas of one gateway must share, each behind an
 * async interface a network store (Redis/Valkey) can fill. `GatewayOptions.stores` takes a partial
 * bundle; {@link completeStores} fills the rest with {@link memoryStores}.
 *
 * @module
 */
import { InProcessEventBus } from "../bus/event-bus.ts";
import type { EventBus } from "../bus/types.ts";
import { type DeviceStore, MemoryDeviceStore } from "./devices.ts";
import { type ExecApprovalStore, MemoryExecApprovalStore } from "./exec-approvals.ts";
import { type IdempotencyStore, MemoryIdempotencyStore } from "./idempotency.ts";
import { type JsonDocs, MemoryJsonDocs } from "./json-docs.ts";
import { type LeaseStore, MemoryLeaseStore } from "./leases.ts";
import { MemoryNodeStore, type NodeStore } from "./nodes.ts";
import { MemoryPeerRegistry, type PeerRegistry } from "./peers.ts";
import { MemoryPresenceStore, type PresenceStore } from "./presence.ts";
import { MemoryRateLimitStore, type RateLimitStore } from "./rate-limit.ts";
import { MemoryResponseSessionStore, type ResponseSessionStore } from "./response-sessions.ts";
import { MemoryRunStore, type RunStore } from "./runs.ts";
import {
  MemorySessionStore,
  MemoryTranscriptStore,
  type SessionStore,
  type TranscriptStore,
} from "./sessions.ts";
import { MemoryStateVersionStore, type StateVersionStore } from "./state-version.ts";
import { MemorySystemEventStore, type SystemEventStore } from "./system-events.ts";
import { MemoryTurnQueue, type TurnQueue } from "./turn-queue.ts";
import {
  GuardedMemorySessionStore,
  GuardedMemoryTranscriptStore,
  GuardedMemoryTurnQueue,
  guardsOf,
} from "./memory-guarded.ts";

/** Where a stores bundle keeps its shared state, as `status.cluster` shows it. */
export type StoresBackend =
  | { kind: "in-process" }
  | {
    kind: "redis";
    /** The server's URL without credentials. */
    url: string;
    /** The prefix of every key and channel the bundle uses. */
    keyPrefix: string;
    /** Whether the connection is up right now. */
    connected(): boolean;
  };

/** Every shared-state seam of a gateway, as one option. */
export interface GatewayStores {
  /** Who is connected (`presence` / `system-presence`, `hello-ok.snapshot.presence`). */
  presence: PresenceStore;
  /** Paired devices and their device tokens. */
  devices: DeviceStore;
  /** First outcomes of keyed requests (`idempotencyKey` on methods, hook deliveries). */
  idempotency: IdempotencyStore;
  /** Auth failure lockouts, the hooks token limiter and the config write limit. */
  rateLimits: RateLimitStore;
  /** The `stateVersion` counters. */
  stateVersions: StateVersionStore;
  /** Session metadata by key. */
  sessions: SessionStore;
  /** Append-only transcripts, numbered by the store. */
  transcripts: TranscriptStore;
  /** Run state and outcome by run id (for `agent.wait`, `chat.abort` on any replica). */
  runs: RunStore;
  /** Per-session leases: one replica at a time runs a session's turns. */
  leases: LeaseStore;
  /** Event fan-out to sockets (of every replica, for a shared bus). */
  bus: EventBus;
  /** Responses API `previous_response_id` → session. */
  responseSessions: ResponseSessionStore;
  /** Connected nodes (`role: "node"` clients), whichever replica holds their socket. */
  nodes: NodeStore;
  /** Exec approvals waiting for (or answered by) an operator, and the commands `allow-always` trusts. */
  execApprovals: ExecApprovalStore;
  /** System events waiting for a session's next turn (hook wakes with `next-heartbeat`). */
  systemEvents: SystemEventStore;
  /** Inputs of turns waiting for their session, kept until their turn writes them to the transcript. */
  turnQueue: TurnQueue;
  /** Small JSON documents: cron jobs and their run history, channel pairing, Telegram offsets. */
  docs: JsonDocs;
  /** The replicas alive, as `clusterModule` announces them (`status.cluster`, taking over a dead one's turns). */
  peers: PeerRegistry;
  /**
   * Where this bundle keeps its state, for `clusterModule` to show: an embedder that opens Redis stores
   * need not name the backend twice. Unset in a hand-built bundle, which `status` then shows in process.
   */
  backend?: StoresBackend;
}

/** What {@link memoryStores} needs: the clock TTLs and windows are measured on. */
export interface MemoryStoresOptions {
  /** Milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
  /** Where the in-process bus reports a listener that threw; `console.error` by default. */
  onListenerError?: (error: unknown) => void;
}

/**
 * A complete bundle of in-process stores; nothing survives a restart. Its transcripts, turn queue and
 * finished runs guard their writes with its own sessions and leases (as a networked backend checks them in one step): to
 * replace some members, pass them to {@link completeStores} rather than spreading this bundle or
 * assigning to its members.
 *
 * @example Hand the gateway a bundle and read what it stored
 * ```ts
 * import { agentsModule, createGateway, memoryStores } from "@openclaw-ts/gateway";
 *
 * const stores = memoryStores();
 * const gateway = createGateway({
 *   stores,
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [agentsModule()],
 * });
 * await gateway.start();
 * const sent = await gateway.call("chat.send", { sessionKey: "main", message: "hi", idempotencyKey: "k1" });
 * await gateway.call("agent.wait", { runId: (sent as { runId: string }).runId, timeoutMs: 5_000 });
 *
 * const [session] = await stores.sessions.list();
 * if (session?.key !== "agent:main:main") throw new Error(JSON.stringify(session));
 * await gateway.stop();
 * ```
 */
export function memoryStores(options: MemoryStoresOptions = {}): GatewayStores {
  const now = options.now ?? (() => Date.now());
  const leases = new MemoryLeaseStore(now);
  const sessions = new GuardedMemorySessionStore(leases);
  const transcripts = new GuardedMemoryTranscriptStore({ sessions, leases });
  return {
    presence: new MemoryPresenceStore(),
    devices: new MemoryDeviceStore(),
    idempotency: new MemoryIdempotencyStore(now),
    rateLimits: new MemoryRateLimitStore(now),
    stateVersions: new MemoryStateVersionStore(),
    sessions,
    transcripts,
    runs: new MemoryRunStore(now),
    leases,
    bus: new InProcessEventBus(
      options.onListenerError ?? ((error) => console.error("event listener failed", error)),
    ),
    responseSessions: new MemoryResponseSessionStore(now),
    nodes: new MemoryNodeStore(now),
    execApprovals: new MemoryExecApprovalStore(),
    systemEvents: new MemorySystemEventStore(),
    turnQueue: new GuardedMemoryTurnQueue({ sessions, leases, transcripts }),
    docs: new MemoryJsonDocs(),
    peers: new MemoryPeerRegistry(now),
    backend: { kind: "in-process" },
  };
}

/**
 * A guarded member of another {@link memoryStores} bundle checks its writes against that bundle's sessions
 * and leases: `given` takes those too, where it names none of its own, so its turns hold the leases the
 * member checks (with new ones, every guarded write would be refused and every turn would end as if it had
 * lost its lease). Given ones are kept: a wrapper around the same leases is a legitimate choice.
 */
function adoptGuards(given: Partial<GatewayStores>): void {
  for (const store of [given.sessions, given.transcripts, given.turnQueue]) {
    const guards = guardsOf(store);
    if (guards) given.leases ??= guards.leases;
    if (guards?.sessions) given.sessions ??= guards.sessions;
  }
}

/**
 * `partial`'s stores, and in-process ones for every member it leaves out. A member of a
 * {@link memoryStores} bundle brings the sessions and leases its guarded writes check.
 *
 * @example Bring your own session store, keep the rest in process
 * ```ts
 * import { completeStores, MemorySessionStore } from "@openclaw-ts/gateway";
 *
 * const sessions = new MemorySessionStore();
 * const stores = completeStores({ sessions }, { now: () => 1_767_225_600_000 });
 * if (stores.sessions !== sessions) throw new Error("the given store must be kept");
 * const verdict = await stores.rateLimits.hit("203.0.113.7", { max: 1, windowMs: 60_000 });
 * if (!verdict.allowed) throw new Error("the first hit is allowed");
 * await stores.bus.close();
 * ```
 */
export function completeStores(
  partial: Partial<GatewayStores> = {},
  options: MemoryStoresOptions = {},
): GatewayStores {
  const defaults = memoryStores(options);
  const given: Partial<GatewayStores> = Object.fromEntries(
    Object.entries(partial).filter(([, store]) => store !== undefined),
  );
  adoptGuards(given);
  const bundle = { ...defaults, ...given } as GatewayStores;
  // The default transcripts and turn queue check their guards against the default sessions and leases
  // (and the queue moves into the default transcripts), the default sessions against the default leases:
  // with any of those given, they guard nothing.
  if (given.leases && !given.sessions) bundle.sessions = new MemorySessionStore();
  if (given.sessions || given.leases || given.transcripts) {
    if (!given.transcripts) bundle.transcripts = new MemoryTranscriptStore();
    if (!given.turnQueue) bundle.turnQueue = new MemoryTurnQueue();
  }
  return bundle;
}
