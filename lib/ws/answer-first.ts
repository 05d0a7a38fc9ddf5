/**
 * Keeps a run's events from reaching the socket that started it before that call's answer: the reference
 * answers `chat.send` (and acks `agent`) before the run makes a sound, and a client may wait for the answer
 * before it listens for the run's events. Here the answer of a keyed call waits for the write of its
 * outcome, which a model that answers at once can put behind the run's end (on Redis, in the batch of the
 * turn's last writes): the run's events for this socket wait for the answer, then follow it in order.
 *
 * @module
 */

/** Methods whose run id is the call's `idempotencyKey`, and whose answer comes before the run's events. */
const RUN_STARTERS = new Set(["chat.send", "agent"]);

/** Events that belong to one run, by `payload.runId`. */
const RUN_EVENTS = new Set(["chat", "agent"]);

/** The run ids of one socket's calls not answered yet, and the events of those runs held meanwhile. */
export class AnswerFirst<T> {
  /** By run id: the events held for the call's answer, oldest first. */
  readonly #waiting = new Map<string, T[]>();

  /** The run id a call starts, if it is one whose answer goes first. */
  static runIdOf(method: string, params: unknown): string | undefined {
    if (!RUN_STARTERS.has(method)) return undefined;
    const key = (params as { idempotencyKey?: unknown } | undefined)?.idempotencyKey;
    return typeof key === "string" ? key : undefined;
  }

  /** A call starting run `runId` was received: its run's events wait for its answer. */
  expect(runId: string): void {
    if (!this.#waiting.has(runId)) this.#waiting.set(runId, []);
  }

  /** Holds `item` (an event about to be sent) if it is of a run whose call is not answered yet. */
  hold(event: string, payload: unknown, item: T): boolean {
    if (this.#waiting.size === 0 || !RUN_EVENTS.has(event)) return false;
    const runId = (payload as { runId?: unknown } | undefined)?.runId;
    const held = typeof runId === "string" ? this.#waiting.get(runId) : undefined;
    held?.push(item);
    return held !== undefined;
  }

  /** A call starting run `runId` was answered (its first answer): what its run held goes now, in order. */
  answered(runId: string): T[] {
    const held = this.#waiting.get(runId) ?? [];
    // A second call of the run on this socket (a retry) needs no more: its events follow the first answer.
    this.#waiting.delete(runId);
    return held;
  }
}
