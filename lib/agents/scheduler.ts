/**
 * When a run may start: runs of one session go one at a time, in arrival order, and an agent runs at
 * most `maxConcurrent` sessions at once. A queued run whose signal aborts leaves the queue at once.
 *
 * @module
 */

/** A FIFO of waiters for a limited number of slots. */
class Slots {
  #free: number;
  readonly #waiters: { grant: () => void; signal: AbortSignal; reject: (reason: unknown) => void }[] = [];

  constructor(private limit: number) {
    this.#free = limit;
  }

  /** Applies a changed limit (hot reload); running work is never interrupted. */
  resize(limit: number): void {
    this.#free += limit - this.limit;
    this.limit = limit;
    this.#drain();
  }

  get idle(): boolean {
    return this.#free === this.limit && this.#waiters.length === 0;
  }

  acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const waiter = {
        signal,
        reject,
        grant: () => {
          signal.removeEventListener("abort", onAbort);
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            this.#free++;
            this.#drain();
          });
        },
      };
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter);
        if (index !== -1) this.#waiters.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#drain();
    });
  }

  #drain(): void {
    while (this.#free > 0 && this.#waiters.length) {
      this.#free--;
      this.#waiters.shift()!.grant();
    }
  }
}

/** Serialises runs per session key and bounds them per agent. */
export class RunScheduler {
  readonly #sessions = new Map<string, Slots>();
  readonly #agents = new Map<string, Slots>();

  /** Runs `work` once both the session's lane and one of the agent's slots are free. */
  async run<T>(
    sessionKey: string,
    agent: { id: string; maxConcurrent: number },
    signal: AbortSignal,
    work: () => Promise<T>,
  ): Promise<T> {
    const session = this.#slots(this.#sessions, sessionKey, 1);
    const releaseSession = await session.acquire(signal).catch((e) => {
      this.#forget(this.#sessions, sessionKey);
      throw e;
    });
    try {
      const slots = this.#slots(this.#agents, agent.id, agent.maxConcurrent);
      slots.resize(agent.maxConcurrent);
      const releaseAgent = await slots.acquire(signal);
      try {
        return await work();
      } finally {
        releaseAgent();
      }
    } finally {
      releaseSession();
      this.#forget(this.#sessions, sessionKey);
    }
  }

  #slots(map: Map<string, Slots>, key: string, limit: number): Slots {
    let slots = map.get(key);
    if (!slots) map.set(key, slots = new Slots(limit));
    return slots;
  }

  /** Idle session lanes are dropped so one-off sessions do not accumulate. */
  #forget(map: Map<string, Slots>, key: string): void {
    if (map.get(key)?.idle) map.delete(key);
  }
}
