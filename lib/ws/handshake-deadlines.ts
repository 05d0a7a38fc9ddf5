/**
 * The handshake deadlines of one gateway's sockets on one timer. A timer per socket would be cleared at
 * its `hello-ok`, but in Deno a cleared timer still costs CPU when its deadline comes (10,000 sockets that
 * connected in a burst cost ~15 ms of timer work 15 s later, in the middle of whatever runs then).
 *
 * @module
 */

/** A socket whose handshake can run out of time. */
export interface HandshakeDeadline {
  /** The deadline passed (a socket that settled meanwhile ignores it). */
  handshakeExpired(): void;
}

/**
 * Deadlines `timeoutMs` after each `add`, in order (one timeout for all, so the queue stays sorted). A
 * socket calls `settled` once, when its handshake ends either way; once none is pending the timer goes.
 */
export class HandshakeDeadlines {
  #at: number[] = [];
  #who: (HandshakeDeadline | undefined)[] = [];
  #head = 0;
  #pending = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Deadlines fall `timeoutMs` after each socket is added. */
  constructor(readonly timeoutMs: number) {}

  /** Starts `who`'s deadline. */
  add(who: HandshakeDeadline): void {
    this.#at.push(performance.now() + this.timeoutMs);
    this.#who.push(who);
    this.#pending++;
    this.#timer ??= setTimeout(() => this.#expire(), timerDelay(this.timeoutMs));
  }

  /** A socket's handshake ended (authenticated or closed): its deadline no longer matters. */
  settled(): void {
    if (--this.#pending > 0) return;
    // Nothing pending: the queue holds only settled sockets, which need no timer.
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = [];
    this.#who = [];
    this.#head = 0;
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#head < this.#at.length && this.#at[this.#head] <= now) {
      const who = this.#who[this.#head];
      this.#who[this.#head++] = undefined;
      who?.handshakeExpired();
    }
    if (this.#head === this.#at.length) return;
    if (this.#head > 1024) {
      this.#at = this.#at.slice(this.#head);
      this.#who = this.#who.slice(this.#head);
      this.#head = 0;
    }
    this.#timer ??= setTimeout(() => this.#expire(), timerDelay(this.#at[this.#head] - now));
  }
}

/**
 * `ms` as a timer can wait it: a delay past 2^31 - 1 ms fires at once, and the queue would then re-arm every
 * millisecond until the deadline instead of sleeping; the longest wait is taken in steps instead.
 */
function timerDelay(ms: number): number {
  return Math.min(Math.max(0, ms), 2 ** 31 - 1);
}
