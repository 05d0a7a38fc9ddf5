/**
 * When a run may start: runs of one session go one at a time, in arrival order, and an agent runs at
 * most `maxConcurrent` sessions at once. The agent's free slots go round-robin to the owners (callers)
 * with runs waiting, so one caller's backlog cannot make everyone else wait behind it, and an owner may
 * have only so many runs waiting. A queued run whose signal aborts leaves the queue at once.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import type { LeaseHooks, SessionLeases } from "./session-lease.ts";

interface Waiter {
  grant: () => void;
  signal: AbortSignal;
  reject: (reason: unknown) => void;
}

/** Slots granted round-robin between owners, first come first served within one owner. */
class Slots {
  #free: number;
  /** Waiters by owner; the map's order is the rotation. */
  readonly #waiting = new Map<string, Waiter[]>();

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
    return this.#free === this.limit && this.#waiting.size === 0;
  }

  /** Whether a slot is free with no one waiting for it. */
  get available(): boolean {
    return this.#free > 0 && this.#waiting.size === 0;
  }

  /** Takes a slot now; only when {@link available}. */
  take(): () => void {
    this.#free--;
    return this.#releaser();
  }

  acquire(signal: AbortSignal, owner = ""): Promise<() => void> {
    signal.throwIfAborted();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        signal,
        reject,
        grant: () => {
          signal.removeEventListener("abort", onAbort);
          resolve(this.#releaser());
        },
      };
      const onAbort = () => {
        const queue = this.#waiting.get(owner);
        const index = queue?.indexOf(waiter) ?? -1;
        if (index !== -1) {
          queue!.splice(index, 1);
          if (!queue!.length) this.#waiting.delete(owner);
        }
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const queue = this.#waiting.get(owner);
      if (queue) queue.push(waiter);
      else this.#waiting.set(owner, [waiter]);
      this.#drain();
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#free++;
      this.#drain();
    };
  }

  #drain(): void {
    while (this.#free > 0 && this.#waiting.size) {
      const [owner, queue] = this.#waiting.entries().next().value!;
      // The served owner goes to the back of the rotation.
      this.#waiting.delete(owner);
      const waiter = queue.shift()!;
      if (queue.length) this.#waiting.set(owner, queue);
      this.#free--;
      waiter.grant();
    }
  }
}

/** One run to schedule. */
export interface ScheduledRun {
  sessionKey: string;
  agent: { id: string; maxConcurrent: number };
  /**
   * Who the run is for (a connection): runs of one owner take turns with other owners' runs for the
   * agent's slots. Unset: the run takes its turn on its own and is not capped.
   */
  owner?: string;
  /** Runs `owner` may have waiting to start; past it the run is refused. */
  maxQueued?: number;
}

/**
 * Serialises runs per session key, bounds them per agent, and shares an agent fairly between owners.
 * A run also holds its session's lease while it works, so schedulers of other processes sharing the
 * lease store never run the same session at once.
 */

/**
 * `details.code` of the refusal of a run whose owner (a connection, a channel's chat) already has its
 * limit of runs waiting: the caller's own backlog, not an outage, so a channel drops that message rather
 * than asking its service for it again.
 */
export const RUNS_WAITING_LIMITED = "RUNS_WAITING_LIMITED";

export class RunScheduler {
  readonly #sessions = new Map<string, Slots>();
  readonly #agents = new Map<string, Slots>();
  /** Runs waiting to start, per owner. */
  readonly #queued = new Map<string, number>();
  #anonymous = 0;

  constructor(private readonly leases: SessionLeases) {}

  /**
   * Throws a retryable UNAVAILABLE when `run` would have to wait while its owner already has
   * `maxQueued` runs waiting; {@link schedule} refuses exactly then. Lets a caller refuse a run before
   * it builds anything for it.
   */
  admit(run: ScheduledRun): void {
    const slots = this.#slots(this.#agents, run.agent.id, run.agent.maxConcurrent);
    slots.resize(run.agent.maxConcurrent);
    if (run.owner === undefined || run.maxQueued === undefined) return;
    if ((this.#queued.get(run.owner) ?? 0) < run.maxQueued) return;
    if ((this.#sessions.get(run.sessionKey)?.available ?? true) && slots.available) return;
    throw new GatewayError(
      "UNAVAILABLE",
      `too many runs waiting to start on this connection (limit ${run.maxQueued}); ` +
        "wait for some to finish, then retry",
      { retryable: true, details: { code: RUNS_WAITING_LIMITED } },
    );
  }

  /**
   * Starts `work` once both the session's lane and one of the agent's slots are free and the session's
   * lease is held, and never before this returns. `work`'s signal aborts if the lease is lost. `waiting`
   * tells whether it queues behind other runs of this process; `lease` hears the attempts to take the
   * session's lease (and whether another process makes it wait). Refused as {@link admit} says.
   */
  schedule<T>(
    run: ScheduledRun,
    signal: AbortSignal,
    work: (leaseLost: AbortSignal, holder: string) => Promise<T>,
    lease: LeaseHooks = {},
  ): { done: Promise<T>; waiting: boolean } {
    this.admit(run);
    const slots = this.#agents.get(run.agent.id)!;
    const session = this.#slots(this.#sessions, run.sessionKey, 1);
    if (session.available && slots.available) {
      const releaseSession = session.take();
      const releaseAgent = slots.take();
      const done = Promise.resolve().then(() => {
        signal.throwIfAborted();
        return this.leases.hold(run.sessionKey, signal, work, letGo(lease, releaseAgent, releaseSession));
      }).finally(() => {
        releaseAgent();
        releaseSession();
        this.#forget(this.#sessions, run.sessionKey);
      });
      return { done, waiting: false };
    }
    const owner = run.owner ?? `run:${++this.#anonymous}`;
    this.#queued.set(owner, (this.#queued.get(owner) ?? 0) + 1);
    let counted = true;
    const started = () => {
      if (!counted) return;
      counted = false;
      const left = this.#queued.get(owner)! - 1;
      if (left > 0) this.#queued.set(owner, left);
      else this.#queued.delete(owner);
    };
    const done = this.#wait(run, { session, slots, owner, signal, started, work, lease });
    return { done, waiting: true };
  }

  async #wait<T>(
    run: ScheduledRun,
    { session, slots, owner, signal, started, work, lease }: {
      session: Slots;
      slots: Slots;
      owner: string;
      signal: AbortSignal;
      started: () => void;
      work: (leaseLost: AbortSignal, holder: string) => Promise<T>;
      lease: LeaseHooks;
    },
  ): Promise<T> {
    try {
      const releaseSession = await session.acquire(signal).catch((e) => {
        this.#forget(this.#sessions, run.sessionKey);
        throw e;
      });
      try {
        // The limit may have been reloaded while the run waited for its session.
        slots.resize(run.agent.maxConcurrent);
        const releaseAgent = await slots.acquire(signal, owner);
        started();
        try {
          return await this.leases.hold(
            run.sessionKey,
            signal,
            work,
            letGo(lease, releaseAgent, releaseSession),
          );
        } finally {
          releaseAgent();
        }
      } finally {
        releaseSession();
        this.#forget(this.#sessions, run.sessionKey);
      }
    } finally {
      started();
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

/**
 * `lease`, letting the run's lane and slot go once its lease's release is sent: the session's next run
 * here asks for the lease behind that release instead of waiting for its answer (an fsync on Redis) and
 * queueing meanwhile.
 */
function letGo(lease: LeaseHooks, ...releases: (() => void)[]): LeaseHooks {
  return { ...lease, onReleasing: () => releases.forEach((release) => release()) };
}
