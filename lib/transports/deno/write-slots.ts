/**
 * A process-wide cap on the hardened engine's socket writes in flight. Each `conn.write` is a Deno async
 * op whose promise the event loop settles in a later turn; a broadcast that started 10,000 of them in one
 * turn cost the process about twice the CPU of the same writes started a few hundred at a time
 * (bench/cluster.ts: the ops settled together, and the garbage their promises kept young, cost more than
 * their number). Past the cap a writer waits its turn, oldest first; a lone answer never meets it.
 *
 * A peer that stops reading leaves its write pending until the engine's write timeout drops it. Such a
 * write keeps its slot only `stallMs`: while writers wait, older slots are forfeited, so a few hundred
 * stalled peers cannot hold every other socket's writes back.
 *
 * @module
 */

/** One write's hold on a slot. */
export interface WriteSlot {
  /** When the write took it (ms, the slots' clock). */
  readonly since: number;
  /** False once given back or forfeited. */
  held: boolean;
}

/** Slots for writes in flight; see the module doc. */
export class WriteSlots {
  #free: number;
  /** Slots held, oldest first (a Set iterates in insertion order). */
  readonly #held = new Set<WriteSlot>();
  #waiting: ((slot: WriteSlot) => void)[] = [];
  #next = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `limit` writes in flight at most, each holding its slot at most `stallMs` while others wait. */
  constructor(readonly limit: number, readonly stallMs: number, readonly clock: () => number = Date.now) {
    this.#free = limit;
  }

  /** Writers waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length - this.#next;
  }

  /** A slot now when one is free (and nobody waits), else a promise of the next one given back. */
  take(): WriteSlot | Promise<WriteSlot> {
    if (this.#free > 0 && this.waiting === 0) {
      this.#free--;
      return this.#hold();
    }
    this.#timer ??= setTimeout(() => this.#forfeitStalled(), this.stallMs);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Gives `slot` back when its write has ended (nothing when it was forfeited meanwhile). */
  give(slot: WriteSlot): void {
    if (!slot.held) return;
    slot.held = false;
    this.#held.delete(slot);
    this.#release();
  }

  #hold(): WriteSlot {
    const slot = { since: this.clock(), held: true };
    this.#held.add(slot);
    return slot;
  }

  /** One slot is free again: to the writer waiting longest, or back to the pool. */
  #release(): void {
    if (this.waiting === 0) {
      this.#free++;
      return;
    }
    const resolve = this.#waiting[this.#next];
    this.#waiting[this.#next++] = undefined as unknown as () => void;
    // Cut once drained, so the queue never outgrows one burst of waiters.
    if (this.waiting === 0) this.#waiting = [], this.#next = 0;
    resolve(this.#hold());
  }

  #forfeitStalled(): void {
    this.#timer = undefined;
    const cutoff = this.clock() - this.stallMs;
    for (const slot of this.#held) {
      if (slot.since > cutoff || this.waiting === 0) break;
      slot.held = false;
      this.#held.delete(slot);
      this.#release();
    }
    if (this.waiting > 0) this.#timer = setTimeout(() => this.#forfeitStalled(), this.stallMs);
  }
}
