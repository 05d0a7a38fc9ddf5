/**
 * The guarded writes of the in-process stores (`TranscriptStore.appendIfHeld`, `TurnQueue.moveIfHeld`,
 * `SessionStore.recordRunIfHeld`):
 * the check of the session's lease and entry and the write it guards run in one synchronous step, as the
 * Redis scripts run in one. Two gateways on one `memoryStores()` bundle (the stand-in for a shared
 * backend) then take the paths replicas on Redis take, and both pass one contract suite.
 *
 * @module
 */
import type { MemoryLeaseStore } from "./leases.ts";
import {
  type AppendGuard,
  MemorySessionStore,
  MemoryTranscriptStore,
  type NewTranscriptEntry,
  type SessionEntry,
  type SessionRunUpdate,
  type TranscriptEntry,
  type TranscriptRef,
} from "./sessions.ts";
import { MemoryTurnQueue, type MoveResult } from "./turn-queue.ts";

/** What a guard is checked against: the bundle's own in-process sessions and leases. */
export interface GuardStores {
  /** The sessions whose entry must name the transcript. */
  sessions: MemorySessionStore;
  /** The leases the guard's owner must hold. */
  leases: MemoryLeaseStore;
}

/**
 * Whether `guard` lets a write to transcript `ref` happen now: its owner holds the lease, unexpired, and
 * the session's entry names `ref` (or it has none and the guard brings one to create). `guard.claim` is not
 * checked: the in-process idempotency store answers a claim at once, so its calls carry no claim guard.
 */
function admits({ sessions, leases }: GuardStores, ref: TranscriptRef, guard: AppendGuard): boolean {
  if (!leases.heldBy(guard.lease, guard.owner)) return false;
  if (guard.sessionKey === undefined) return true;
  const entry = sessions.peek(guard.sessionKey);
  return entry ? entry.sessionId === ref.sessionId : guard.create !== undefined;
}

/** Stores the guard's new session entry when the session has none (the in-process store applies it at once). */
function createEntry({ sessions }: GuardStores, guard: AppendGuard): void {
  if (guard.sessionKey === undefined || !guard.create || sessions.peek(guard.sessionKey)) return;
  void sessions.put(guard.create);
}

/**
 * The stores `store`'s guarded writes are checked against, if it is one of the guarded in-process stores
 * (a member of a {@link memoryStores} bundle): a bundle that takes it in must use these too.
 */
export function guardsOf(
  store: unknown,
): { sessions?: MemorySessionStore; leases: MemoryLeaseStore } | undefined {
  if (store instanceof GuardedMemorySessionStore) return { leases: store.guardLeases };
  if (store instanceof GuardedMemoryTranscriptStore || store instanceof GuardedMemoryTurnQueue) {
    return store.guards;
  }
  return undefined;
}

/** In-process sessions with {@link SessionStore.recordRunIfHeld}, checked against `leases`. */
export class GuardedMemorySessionStore extends MemorySessionStore {
  /** Guards finished runs with the bundle's own `guardLeases`. */
  constructor(readonly guardLeases: MemoryLeaseStore) {
    super();
  }

  /** Applies a finished run (as {@link recordRun}) only while `guard`'s lease holds; `false` when not. */
  recordRunIfHeld(
    key: string,
    update: SessionRunUpdate,
    guard: AppendGuard,
  ): Promise<SessionEntry | undefined | false> {
    if (!this.guardLeases.heldBy(guard.lease, guard.owner)) return Promise.resolve(false);
    return this.recordRun(key, update);
  }
}

/** In-process transcripts with {@link TranscriptStore.appendIfHeld}, checked against `guards`. */
export class GuardedMemoryTranscriptStore extends MemoryTranscriptStore {
  /** Guards appends with the bundle's own `sessions` and `leases`. */
  constructor(readonly guards: GuardStores) {
    super();
  }

  /** Appends (as {@link append}) only while `guard` holds, checked in the same step. */
  appendIfHeld(
    ref: TranscriptRef,
    entries: readonly NewTranscriptEntry[],
    guard: AppendGuard,
  ): Promise<TranscriptEntry[] | undefined> {
    if (!admits(this.guards, ref, guard)) return Promise.resolve(undefined);
    createEntry(this.guards, guard);
    return this.append(ref, entries, { inputOf: guard.inputOf });
  }
}

/** An in-process turn queue with {@link TurnQueue.moveIfHeld} into `transcripts`, checked against `guards`. */
export class GuardedMemoryTurnQueue extends MemoryTurnQueue {
  /** Moves turns into `transcripts` under guards checked with the bundle's `sessions` and `leases`. */
  constructor(readonly guards: GuardStores & { transcripts: MemoryTranscriptStore }) {
    super();
  }

  /** Takes the turn out and appends `entries` in one step, only while `guard` holds for its session. */
  moveIfHeld(
    turn: { sessionKey: string; runId: string; owner?: string },
    ref: TranscriptRef,
    entries: readonly NewTranscriptEntry[],
    guard: AppendGuard,
  ): Promise<MoveResult> {
    const checked = { ...guard, sessionKey: turn.sessionKey };
    if (!admits(this.guards, ref, checked)) return Promise.resolve(undefined);
    if (!this.takeNow(turn.sessionKey, turn.runId, turn.owner)) return Promise.resolve("gone");
    createEntry(this.guards, checked);
    return this.guards.transcripts.append(ref, entries, { inputOf: guard.inputOf });
  }
}
