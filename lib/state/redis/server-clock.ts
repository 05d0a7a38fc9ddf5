/**
 * This process's estimate of a Redis server's clock, so that a script's deadline on that clock can be set
 * without a round trip: `TIME` read now and then, carried forward on the monotonic clock in between.
 *
 * @module
 */
import { REDIS_REPLY_TIMEOUT_MS } from "./unavailable.ts";

/**
 * How old a good reading may get before the clock is read again: clocks drift apart (an NTP slew is at
 * most 0.5 ms a second), so a minute keeps the estimate within tens of milliseconds.
 */
const CLOCK_REFRESH_MS = 60_000;

/** How fast the two clocks may drift apart, which the estimate takes off as its reading ages. */
const MAX_DRIFT = 0.0005;

/**
 * The longest round trip a reading may take and still end a round: the estimate errs low by up to its
 * reading's round trip, and a deadline one reading sets is a tenth of a guarded publish's window
 * (`PUBLISH_WITHIN_MS` in bus.ts, half the reply bound) early at most.
 */
export const CLOCK_ROUND_TRIP_LIMIT_MS = REDIS_REPLY_TIMEOUT_MS / 20;

/** How many readings a round sends, one after the other, looking for one answered within the limit. */
const READINGS_PER_ROUND = 3;

/** How long after a round without a fast reading the next starts (doubled each time, up to the refresh). */
const CLOCK_RETRY_MS = 1_000;

/**
 * The server's clock as estimated from `TIME` readings (`read` sends one). The server read its clock
 * somewhere between a reading's send and its answer: taken as read at the answer, the reading errs low, by
 * at most that round trip; and the estimate takes 0.5 ms off for every second of its reading's age
 * ({@link MAX_DRIFT}). So it is never ahead of the server's clock (a step back of that clock aside, until
 * the next reading), and it errs low by at most its reading's round trip plus 1 ms a second of its age:
 * {@link CLOCK_ROUND_TRIP_LIMIT_MS} plus 60 ms when a round found a fast reading. A round reads until one
 * answer comes back within that limit, three readings at most; a reading replaces the estimate only
 * where it is higher (closer) than the estimate carried forward, so a round of slow answers never makes a
 * good estimate worse: after a round without a fast reading (a busy server, a stalled loop) the estimate
 * errs low by at most the shortest round trip read since the connection's first reading, plus its age's
 * drift, until the next round, a second later (then two, four... up to the minute while
 * answers stay slow), never one per call. Known only while `connected()`, and forgotten at
 * {@link forget}, as another connection may reach another server.
 */
export class ServerClock {
  /** The server's clock minus `performance.now()` at the reading the estimate comes from. */
  #offset?: number;
  /** When that reading was answered (`performance.now()`). */
  #readAt = 0;
  /** When to read again unasked (`performance.now()`), and the wait after a round without a fast reading. */
  #due = 0;
  #retryMs = CLOCK_RETRY_MS;
  /** Counts {@link forget}s: an answer read across one is from another connection than the round's. */
  #link = 0;
  /** The round under way, and the link it reads for. */
  #round?: { link: number; done: Promise<void> };

  /** `read` sends `TIME` and resolves with its answer; `connected()`: whether it would reach the server. */
  constructor(
    private readonly read: () => Promise<unknown>,
    private readonly connected: () => boolean,
  ) {}

  /** The server's clock now, as estimated without a round trip; `undefined` while unknown or disconnected. */
  now(): number | undefined {
    if (!this.connected()) return undefined;
    const now = performance.now();
    // Read in the background: sent ahead of the caller's command, it costs that command no round trip.
    if (now >= this.#due) void this.learn();
    if (this.#offset === undefined) return undefined;
    return now + this.#offset - (now - this.#readAt) * MAX_DRIFT;
  }

  /** Reads the server's clock (a round of readings), unless a round for this connection is under way. */
  learn(): Promise<void> {
    if (this.#round?.link === this.#link) return this.#round.done;
    const round = { link: this.#link, done: this.#read(this.#link) };
    this.#round = round;
    void round.done.then(() => {
      if (this.#round === round) this.#round = undefined;
    });
    return round.done;
  }

  /** Drops the estimate: the connection it was read on is gone, or was replaced. */
  forget(): void {
    this.#offset = undefined;
    this.#link++;
    this.#due = 0;
    this.#retryMs = CLOCK_RETRY_MS;
  }

  /**
   * Reads again at once (a script found its deadline past), unless the last round found only slow answers:
   * then its backoff stands, so a slow server is not asked again by every refused script.
   */
  doubt(): void {
    if (this.#retryMs === CLOCK_RETRY_MS) void this.learn();
  }

  async #read(link: number): Promise<void> {
    for (let reading = 0; reading < READINGS_PER_ROUND && this.connected(); reading++) {
      const sent = performance.now();
      // A failed reading keeps the estimate: Redis is away, read again after the backoff or on reconnection.
      const answer = await this.read().catch(() => undefined);
      const answered = performance.now();
      if (this.#link !== link) return;
      if (answer === undefined) break;
      const [seconds, micros] = answer as [string, string];
      const offset = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - answered;
      // Every reading errs low, as the estimate carried forward does: the higher of the two is the closer.
      if (this.#offset === undefined || offset > this.#offset - (answered - this.#readAt) * MAX_DRIFT) {
        this.#offset = offset;
        this.#readAt = answered;
      }
      if (answered - sent <= CLOCK_ROUND_TRIP_LIMIT_MS) return this.#next(true);
    }
    this.#next(false);
  }

  /** Schedules the next round: a good one's after the refresh, another's after the backoff. */
  #next(good: boolean): void {
    this.#due = performance.now() + (good ? CLOCK_REFRESH_MS : this.#retryMs);
    this.#retryMs = good ? CLOCK_RETRY_MS : Math.min(2 * this.#retryMs, CLOCK_REFRESH_MS);
  }
}
