/**
 * The shared-state bundle: every piece of state that replicas of one gateway must share, behind
 * async interfaces a network store (Redis/Valkey) can fill. `createGateway({ stores })` takes it;
 * whatever is left out is kept in process memory.
 *
 * @module
 */
// --- part B: agents' sessions, transcripts, runs, leases, and the event bus ---
import { InProcessEventBus } from "../bus/event-bus.ts";
import type { EventBus } from "../bus/types.ts";
import { MemoryRunStore, type RunStore } from "./runs.ts";
import {
  MemorySessionStore,
  MemoryTranscriptStore,
  type SessionStore,
  type TranscriptStore,
} from "./sessions.ts";
import { MemoryResponseSessionStore, type ResponseSessionStore } from "./response-sessions.ts";
import { type LeaseStore, MemoryLeaseStore } from "./leases.ts";
// --- end part B ---

/** Every shared-state seam of a gateway, as one option. */
export interface GatewayStores {
  // --- part B: agents' sessions, transcripts, runs, leases, and the event bus ---
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
  // --- end part B ---
}

/** In-process stores for every seam; nothing survives a restart. `now` is the clock TTLs run on. */
export function memoryStores(now: () => number = () => Date.now()): GatewayStores {
  return {
    // --- part B ---
    sessions: new MemorySessionStore(),
    transcripts: new MemoryTranscriptStore(),
    runs: new MemoryRunStore(now),
    leases: new MemoryLeaseStore(now),
    bus: new InProcessEventBus(),
    responseSessions: new MemoryResponseSessionStore(now),
    // --- end part B ---
  };
}
