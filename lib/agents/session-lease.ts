/**
 * Holding a session's lease while one of its turns runs, so two replicas (two schedulers) never run
 * turns of one session at once. Inside one process the scheduler's session lanes already serialise
 * turns; the lease extends that to every process sharing the {@link LeaseStore}.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import type { LeaseStore } from "../state/leases.ts";
import { SINGLETON_LEASE_TTL_MS, within } from "../state/singleton.ts";

/**
 * A session's lease lasts this long unless renewed (the default of `gateway.cluster.sessionLeaseTtlMs`); a
 * dead replica's lease frees itself after it.
 */
export const SESSION_LEASE_TTL_MS = 30_000;
/**
 * The session lease TTL a cluster config gives: its `sessionLeaseTtlMs` (which the config refuses below
 * twice `leaseTtlMs`), else {@link SESSION_LEASE_TTL_MS} or twice `leaseTtlMs` when that is longer, so the
 * default too outlasts the time the cluster takes to notice a dead replica.
 */
export function sessionLeaseTtlOf(cluster?: { leaseTtlMs?: number; sessionLeaseTtlMs?: number }): number {
  return cluster?.sessionLeaseTtlMs ??
    Math.max(SESSION_LEASE_TTL_MS, 2 * (cluster?.leaseTtlMs ?? SINGLETON_LEASE_TTL_MS));
}

/** First pause before asking again for a lease another replica holds (doubling up to a second). */
export const SESSION_LEASE_RETRY_MS = 25;
const MAX_RETRY_PAUSE_MS = 1_000;

/** The {@link LeaseStore} key of a session's lease. */
export function sessionLeaseKey(sessionKey: string): string {
  return `session:${sessionKey}`;
}

/** What a turn ends with when it lost its session's lease: another replica may run the session now. */
export function leaseLostError(sessionKey: string): GatewayError {
  return new GatewayError("UNAVAILABLE", `lost the lease on session '${sessionKey}'; retry the turn`, {
    retryable: true,
  });
}

/** How a process takes session leases. */
export interface SessionLeaseOptions {
  /** Where the leases are kept (shared by the replicas). */
  store: LeaseStore;
  /** Who holds the leases: unique per process (a replica id). */
  owner: string;
  /**
   * How long a lease lasts unless renewed ({@link SESSION_LEASE_TTL_MS} when not given); renewed every third
   * of it. A function is asked at each {@link SessionLeases.hold}, so a new value (a config reload) applies
   * to the leases taken after it.
   */
  ttlMs?: number | (() => number | undefined);
  /** The first pause before asking again for a held lease. */
  retryMs?: number;
  /** Told when a renewal fails for a reason other than losing the lease (the store is unreachable). */
  onRenewError?: (error: unknown) => void;
  /** The clock renewals are timed by. */
  now?: () => number;
}

/** What a caller of {@link SessionLeases.hold} hears while the lease is being taken. */
export interface LeaseHooks {
  /** Called once if another holder makes it wait. */
  onWait?: () => void;
  /**
   * Called right after the first attempt to take the lease is sent, before its answer, with the owner the
   * attempt is made under: unique to that attempt, so a write guarded by it (an `AppendGuard`) lands
   * only if this very attempt got the lease, never under another lease of this process. Reads sent here
   * travel with the attempt: a store that serves one connection in order (Redis) answers them in the same
   * round trip, after the attempt, so a successful attempt comes with what its holder would have read next.
   * Later attempts follow a wait (`onWait`), after which what the first one read is stale anyway.
   */
  onAttempt?: (holder: string) => void;
  /**
   * Called once the lease's release is sent, before its answer: the store serves this process's commands
   * in order (Redis: one connection), so this process's next attempt at the session lands behind it. One
   * that lands first after all (Redis re-running a script a restart made it forget) is refused and tried
   * again, as when another replica holds the session.
   */
  onReleasing?: () => void;
}

/** A lease this process holds while one turn runs. */
interface Held {
  key: string;
  sessionKey: string;
  token: string;
  /** The owner the lease was taken under (unique to the attempt that took it). */
  holder: string;
  lost: AbortController;
  /** The TTL it was taken with, kept for its whole hold. */
  ttlMs: number;
  /** When the store last confirmed the hold (taken before asking): the lease runs out a TTL after it. */
  confirmedAt: number;
  /** Whether a renewal is awaiting its answer: no second one is sent meanwhile. */
  renewing: boolean;
  /** Timer ticks seen: the lease is renewed every second tick. */
  ticks: number;
}

/**
 * Runs work under per-session leases. One timer renews every lease held, and runs only while some
 * lease is held: a timer per turn would cost more than the turn's bookkeeping itself. It ticks every
 * sixth of the TTL and renews each lease every second tick, so a lease taken just after a tick is still
 * checked against its deadline at most a sixth of the TTL late. While leases of two TTLs are held (the
 * TTL changed meanwhile) it ticks by the shorter one: the longer ones are renewed more often than they
 * need, never too late.
 */
export class SessionLeases {
  readonly #ttlMs: () => number;
  readonly #retryMs: number;
  readonly #held = new Set<Held>();
  /** How many held leases were taken with each TTL: the timer ticks by the shortest one held. */
  readonly #heldTtls = new Map<number, number>();
  /** Leases whose release failed (the store was unreachable), by key: given back before the key is taken again. */
  readonly #unreleased = new Map<string, string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The timer's interval, while it runs. */
  #tickMs = Infinity;
  /** Attempts made so far: each is made under an owner of its own (`<owner>/<n>`). */
  #attempts = 0;

  /** Leases as `options` say; nothing is taken until {@link hold}. */
  constructor(private readonly options: SessionLeaseOptions) {
    const ttlMs = options.ttlMs;
    this.#ttlMs = () => (typeof ttlMs === "function" ? ttlMs() : ttlMs) ?? SESSION_LEASE_TTL_MS;
    this.#retryMs = options.retryMs ?? SESSION_LEASE_RETRY_MS;
  }

  /**
   * Waits until this process holds `sessionKey`'s lease (or `signal` aborts), runs `work` while renewing
   * it, and releases it. `work`'s signal aborts if the lease is lost (not renewed in time); `holder` is the
   * owner the lease was taken under, for writes guarded by it. `hooks` hear the attempts to take it.
   */
  async hold<T>(
    sessionKey: string,
    signal: AbortSignal,
    work: (lost: AbortSignal, holder: string) => Promise<T>,
    hooks: LeaseHooks = {},
  ): Promise<T> {
    const key = sessionLeaseKey(sessionKey);
    const { token, holder, confirmedAt, ttlMs } = await this.#acquire(key, signal, hooks);
    const held: Held = {
      key,
      sessionKey,
      token,
      holder,
      lost: new AbortController(),
      ttlMs,
      confirmedAt,
      renewing: false,
      ticks: 0,
    };
    this.#held.add(held);
    this.#heldTtls.set(ttlMs, (this.#heldTtls.get(ttlMs) ?? 0) + 1);
    this.#paceTimer();
    try {
      return await work(held.lost.signal, holder);
    } finally {
      this.#held.delete(held);
      const left = this.#heldTtls.get(ttlMs)! - 1;
      if (left) this.#heldTtls.set(ttlMs, left);
      else this.#heldTtls.delete(ttlMs);
      this.#paceTimer();
      const released = this.#release(key, held.token, ttlMs);
      hooks.onReleasing?.();
      await released;
    }
  }

  /**
   * Keeps the renewal timer at a sixth of the shortest TTL held, or stops it when none is: once the leases
   * of a shorter TTL (taken before a reload) are gone, the others are renewed every third of theirs again,
   * not at the shorter pace for as long as this replica holds any lease.
   */
  #paceTimer(): void {
    const tickMs = Math.min(...this.#heldTtls.keys()) / 6;
    if (tickMs === this.#tickMs) return;
    clearInterval(this.#timer);
    this.#tickMs = tickMs;
    this.#timer = tickMs === Infinity
      ? undefined
      : setInterval(() => this.#held.forEach((h) => this.#tick(h)), tickMs);
  }

  /**
   * Gives a lease back. When the store cannot be reached (or does not answer within a third of the TTL,
   * which would keep the finished turn's `hold` from returning) the token is kept, so this process's next turn of the
   * session gives it back first instead of waiting for it to expire.
   */
  async #release(key: string, token: string, ttlMs: number): Promise<void> {
    const waitMs = ttlMs / 3;
    try {
      const released = this.options.store.release(key, token).then(() => true);
      if (!(await within(released, waitMs, false, () => {}))) {
        throw new Error(`lease store did not answer within ${waitMs} ms`);
      }
      if (this.#unreleased.get(key) === token) this.#unreleased.delete(key);
    } catch (error) {
      this.#unreleased.set(key, token);
      this.options.onRenewError?.(error);
    }
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * Renews `held` every second tick, and checks it on every tick: an event loop that stalled may wake on
   * a tick that renews nothing. Past its deadline it is renewed at once; a lease whose TTL went by since
   * it was confirmed is lost without asking. A renewal that has not answered (a partitioned store: the
   * connection open, no reply) is not sent again, and loses the lease once its deadline passes.
   */
  #tick(held: Held): void {
    const late = this.#pastDeadline(held);
    if (this.#now() >= held.confirmedAt + held.ttlMs || (held.renewing && late)) this.#lose(held);
    else if (!held.renewing && (++held.ticks % 2 === 0 || late)) void this.#renew(held);
  }

  /**
   * Whether the lease could run out before the next renewal lands: the turn must stop writing before
   * another replica may take the session, not after.
   */
  #pastDeadline(held: Held): boolean {
    return this.#now() >= held.confirmedAt + held.ttlMs * 2 / 3;
  }

  /**
   * Renews `held`. A renewal the store refuses loses the lease at once; one that fails (the store is
   * unreachable) loses it past its deadline.
   */
  async #renew(held: Held): Promise<void> {
    const tried = this.#now();
    held.renewing = true;
    try {
      if (await this.options.store.renew(held.key, held.token, held.ttlMs)) held.confirmedAt = tried;
      else this.#lose(held);
    } catch (error) {
      this.options.onRenewError?.(error);
      if (this.#pastDeadline(held)) this.#lose(held);
    } finally {
      held.renewing = false;
    }
  }

  #lose(held: Held): void {
    held.lost.abort(leaseLostError(held.sessionKey));
  }

  /**
   * Takes `key`'s lease, for the TTL configured when the successful attempt is made (a turn that waited
   * across a reload takes the new one); `confirmedAt` is when that attempt was sent, so the TTL counts from
   * before it, and `holder` the owner it was made under.
   */
  async #acquire(
    key: string,
    signal: AbortSignal,
    { onWait, onAttempt }: LeaseHooks,
  ): Promise<{ token: string; holder: string; confirmedAt: number; ttlMs: number }> {
    for (let pause = this.#retryMs;; pause = Math.min(pause * 2, MAX_RETRY_PAUSE_MS)) {
      signal.throwIfAborted();
      const ttlMs = this.#ttlMs();
      // A release of this process that failed (perhaps while this turn already waited behind it) goes first.
      const unreleased = this.#unreleased.get(key);
      if (unreleased) await this.#release(key, unreleased, ttlMs);
      const confirmedAt = this.#now();
      const holder = `${this.options.owner}/${++this.#attempts}`;
      const attempt = this.options.store.acquire(key, holder, ttlMs);
      if (pause === this.#retryMs) onAttempt?.(holder);
      const token = await attempt;
      if (token !== null) return { token, holder, confirmedAt, ttlMs };
      if (pause === this.#retryMs) onWait?.();
      await sleep(pause, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
