/**
 * Singletons: work that must run on one replica of a cluster at a time (channel polling, cron, heartbeats).
 * Each replica keeps asking for the job's lease; the one that holds it runs the job and renews the lease,
 * and when it dies (or loses the store) the lease expires and another replica takes the job over within
 * about one TTL. With in-process stores the single process always wins the lease at once.
 *
 * @module
 */
import type { LeaseStore } from "./leases.ts";

/** A singleton's lease lasts this long unless renewed; a dead holder's job moves after about this long. */
export const SINGLETON_LEASE_TTL_MS = 15_000;

/** How a {@link runSingleton} job is held. */
export interface SingletonOptions {
  /** Where the leases are kept (shared by the replicas). */
  store: LeaseStore;
  /** The job's name; replicas sharing a store agree on it (`cron`, `telegram:default`). */
  name: string;
  /** This replica: unique per process. */
  owner: string;
  /**
   * Runs the job while this replica holds the lease. `signal` aborts when the lease is lost or the
   * singleton is stopped; the job must then stop, and its promise (if any) settle. The lease is kept
   * until then, even when the promise settles early; when it rejects, the lease is let go at the next
   * renewal, so the job starts again (here or on another replica) instead of stopping cluster-wide.
   */
  run: (signal: AbortSignal) => void | Promise<void>;
  /** Lease lifetime; renewed every third of it, and a free lease is asked for as often. */
  ttlMs?: number;
  /** Told when the store fails (the replica keeps trying). */
  onError?: (error: unknown) => void;
}

/** A running singleton. */
export interface Singleton {
  /** Whether this replica holds the job right now. */
  readonly held: boolean;
  /** Stops asking for the lease, aborts the job if it runs here, and releases the lease. */
  stop(): Promise<void>;
}

/**
 * Keeps asking for `name`'s lease and runs `run` whenever this replica holds it.
 *
 * @example One process always holds its own singleton
 * ```ts
 * import { MemoryLeaseStore } from "./leases.ts";
 * import { runSingleton } from "./singleton.ts";
 *
 * const ran = Promise.withResolvers<void>();
 * const job = runSingleton({
 *   store: new MemoryLeaseStore(),
 *   name: "cron",
 *   owner: "replica-a",
 *   run: () => ran.resolve(),
 * });
 * await ran.promise;
 * await job.stop();
 * ```
 */
export function runSingleton(options: SingletonOptions): Singleton {
  const { store, name, owner, run, onError = () => {} } = options;
  const ttlMs = options.ttlMs ?? SINGLETON_LEASE_TTL_MS;
  const key = `singleton:${name}`;
  const stopped = new AbortController();
  let token: string | null = null;
  let job: AbortController | undefined;
  let running: Promise<void> | undefined;
  let failed = false;

  // A store call that hangs (a half-open connection) counts as failed after a third of the TTL: the job
  // stops well before its lease can expire and another replica take the job over.
  const bounded = <T>(call: () => Promise<T>, failed: T) =>
    within(
      call().catch((error) => (onError(error), failed)),
      ttlMs / 3,
      failed,
      () => onError(new Error(`lease store did not answer within ${ttlMs / 3} ms`)),
    );

  const release = async () => {
    job?.abort();
    await running;
    const held = token;
    token = null;
    if (held) await bounded(() => store.release(key, held), undefined);
  };

  const step = async () => {
    if (failed) {
      failed = false;
      await release();
      return;
    }
    if (token) {
      const held = token;
      if (!(await bounded(() => store.renew(key, held, ttlMs), false))) {
        // Lost (or unreachable long enough that another replica may have it): stop working at once.
        await release();
      }
      return;
    }
    token = await bounded(() => store.acquire(key, owner, ttlMs), null);
    if (!token || stopped.signal.aborted) return;
    const controller = new AbortController();
    job = controller;
    running = (async () => {
      try {
        await run(controller.signal);
      } catch (error) {
        if (controller.signal.aborted) return;
        onError(error);
        failed = true;
      }
    })();
  };

  const loop = (async () => {
    while (!stopped.signal.aborted) {
      await step();
      await pause(ttlMs / 3, stopped.signal);
    }
    await release();
  })();

  return {
    get held() {
      return token !== null;
    },
    async stop() {
      stopped.abort();
      await loop;
    },
  };
}

/** `promise`'s value, or `late` (after calling `onLate`) when it has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, late: T, onLate: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => (onLate(), resolve(late)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
