/**
 * Keeps a socket's events behind the answer of a call of it that starts a run: the reference answers
 * `chat.send` (and acks `agent`) before the run makes a sound, and a client may wait for the answer before it
 * listens for the run's events. Here the answer of a keyed call waits for the write of its outcome, which a
 * model that answers at once can put behind the run's end (on Redis, in the batch of the turn's last writes).
 * So while such a call is unanswered the socket's events wait, all of them (they keep their order with the
 * run's: its input and reply as `session.message`, its end as `sessions.changed`), and follow the answer.
 * The wait is the call's own: its answer comes once its input is saved, or it fails; at most
 * {@link ANSWER_WAIT_MS}.
 *
 * @module
 */

/**
 * Methods that start a run and answer only once its outcome is written. (`agent` acks as soon as its input
 * is saved, before that write; and a duplicate's ack comes at the end of the first call's run.)
 */
const RUN_STARTERS = new Set(["chat.send"]);

/**
 * How long events wait at most: a duplicate call waits for the first call's answer, which a replica that
 * died leaves unwritten until its claim lapses; the socket's other events do not wait that long.
 */
export const ANSWER_WAIT_MS = 1_000;

/** The calls of one socket that start a run and are not answered yet, and the events held meanwhile. */
export class AnswerFirst<T> {
  /** Request ids of the calls awaiting their (first) answer. */
  readonly #calls = new Set<string>();
  #held: T[] = [];
  /** Set once the wait ran out: nothing waits until every call now unanswered is answered. */
  #expired = false;

  /** Whether a call of `method` with `params` starts a run, whose answer goes first. */
  static startsRun(method: string, params: unknown): boolean {
    return RUN_STARTERS.has(method) &&
      typeof (params as { idempotencyKey?: unknown } | undefined)?.idempotencyKey === "string";
  }

  /** Call `id`, which starts a run, was received: the socket's events wait for its answer. */
  expect(id: string): void {
    this.#calls.add(id);
  }

  /** Whether events wait now: a call is unanswered, and the wait has not run out. */
  get holding(): boolean {
    return this.#calls.size > 0 && !this.#expired;
  }

  /** Holds `item`, an event about to be sent while {@link holding}. */
  hold(item: T): void {
    this.#held.push(item);
  }

  /** The wait ran out ({@link ANSWER_WAIT_MS}): what waited goes now, and what follows does not wait. */
  expire(): T[] {
    this.#expired = this.#calls.size > 0;
    return this.#take();
  }

  /** Call `id` was answered (its first answer): once none is left unanswered, what waited goes, in order. */
  answered(id: string): T[] {
    if (!this.#calls.delete(id) || this.#calls.size > 0) return [];
    this.#expired = false;
    return this.#take();
  }

  #take(): T[] {
    const held = this.#held;
    this.#held = [];
    return held;
  }
}
