/**
 * The turn queue: the inputs of turns that wait for their session (its turn runs here or on another
 * replica), written before their caller is answered, so an acknowledged message outlives the replica that
 * took it. The replica that queued an input takes it out when its turn starts, in the same step as it
 * writes it to the transcript; inputs of a replica that died are run by another one.
 *
 * @module
 */
import type { ChatMessage } from "../providers/types.ts";
import type { AppendGuard, NewTranscriptEntry, TranscriptEntry, TranscriptRef } from "./sessions.ts";

/**
 * Where a turn's reply goes besides the transcript: a recipient of a channel (the chat a channel message
 * came from, a hook's delivery target). Whichever replica runs the turn sends the reply there, through
 * that channel's outbound API.
 */
export interface TurnDelivery {
  /** The channel's id (`channels.<id>`). */
  channel: string;
  /** The recipient on that channel (a Telegram chat id, a webhook conversation id). */
  to: string;
  /** The channel's id of the message the reply answers, to thread it there. */
  replyToId?: string;
}

/** A turn waiting for its session: everything another replica needs to run it. */
export interface QueuedTurn {
  /** The run's id (a WS client's `idempotencyKey`): the same on whichever replica runs it. */
  runId: string;
  /** The full key of the session the turn runs in. */
  sessionKey: string;
  /** The agent that runs it. */
  agentId: string;
  /** The turn's new messages, appended to the transcript when it starts. */
  messages: ChatMessage[];
  /** Appended to the agent's system prompt for this turn. */
  system?: string;
  /** A `provider/model` ref overriding the agent's model for this turn. */
  model?: string;
  /** Who started it (`agent`, `chat`) and from which socket; decides where its events go. */
  origin: { kind: "agent" | "chat" | "http"; connId?: string; external?: boolean; heartbeat?: boolean };
  /** Where its reply is sent once it ran, besides the transcript; none for a socket's turn. */
  delivery?: TurnDelivery;
  /** When the gateway accepted it, ms since the epoch. */
  acceptedAt: number;
  /** The replica that accepted it and runs it while it lives (its peers id). */
  owner: string;
}

/** What {@link TurnQueue.moveIfHeld} did: the lines appended, `gone` (no such input) or refused. */
export type MoveResult = TranscriptEntry[] | "gone" | undefined;

/**
 * Waiting turns per session, in the order they were queued, at most one per run id. Every call is atomic.
 * Calls that take a turn out may name its `owner`: they then take it only while that replica owns it, so
 * a replica never removes a turn another one adopted (see {@link TurnQueue.enqueue}).
 */
export interface TurnQueue {
  /**
   * Queues `turn` behind the session's other waiting turns; a turn already queued under its run id (a
   * retry of a call whose replica died, or was taken for dead) is adopted instead: it keeps its place and
   * takes `turn`'s contents, owner included.
   */
  enqueue(turn: QueuedTurn): Promise<void>;
  /** The keys of the sessions with turns waiting, in no particular order. */
  sessions(): Promise<string[]>;
  /** The session's waiting turns, oldest first. */
  list(sessionKey: string): Promise<QueuedTurn[]>;
  /**
   * Takes the run's turn out of the queue; `undefined` when it is not (or no longer) there, or `owner`
   * is given and another replica owns it.
   */
  take(sessionKey: string, runId: string, owner?: string): Promise<QueuedTurn | undefined>;
  /**
   * Takes the run's turn out and appends `lines` to the transcript `ref` as one step, only while
   * `guard` holds (as `TranscriptStore.appendIfHeld` checks it): the input is never both queued and in
   * the transcript, nor in neither. `gone` (nothing written) when the turn is not queued (or, with
   * `turn.owner`, another replica owns it); `undefined`
   * (nothing changed) when the guard refused. Optional: a store without it is in one process, where
   * {@link take} then an append leaves no gap another process could see.
   */
  moveIfHeld?(
    turn: { sessionKey: string; runId: string; owner?: string },
    ref: TranscriptRef,
    lines: readonly NewTranscriptEntry[],
    guard: AppendGuard,
  ): Promise<MoveResult>;
}

/**
 * Waiting turns in process memory: they die with the process (which was running them anyway), so the
 * in-process and JSONL bundles promise no more than before for a message acknowledged while it waited.
 */
export class MemoryTurnQueue implements TurnQueue {
  readonly #queues = new Map<string, QueuedTurn[]>();

  enqueue(turn: QueuedTurn): Promise<void> {
    const queue = this.#queues.get(turn.sessionKey);
    const index = queue?.findIndex((queued) => queued.runId === turn.runId) ?? -1;
    if (queue && index !== -1) queue[index] = structuredClone(turn);
    else if (queue) queue.push(structuredClone(turn));
    else this.#queues.set(turn.sessionKey, [structuredClone(turn)]);
    return Promise.resolve();
  }

  sessions(): Promise<string[]> {
    return Promise.resolve([...this.#queues.keys()]);
  }

  list(sessionKey: string): Promise<QueuedTurn[]> {
    return Promise.resolve(structuredClone(this.#queues.get(sessionKey) ?? []));
  }

  take(sessionKey: string, runId: string, owner?: string): Promise<QueuedTurn | undefined> {
    return Promise.resolve(this.takeNow(sessionKey, runId, owner));
  }

  /** {@link take}, done at once: a guarded move checks and takes in one step. */
  protected takeNow(sessionKey: string, runId: string, owner?: string): QueuedTurn | undefined {
    const queue = this.#queues.get(sessionKey) ?? [];
    const index = queue.findIndex((turn) => turn.runId === runId);
    if (index === -1 || (owner !== undefined && queue[index].owner !== owner)) return undefined;
    const [turn] = queue.splice(index, 1);
    if (!queue.length) this.#queues.delete(sessionKey);
    return turn;
  }
}
