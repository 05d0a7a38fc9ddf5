/**
 * Runs as every replica sees them: each run's state and outcome recorded by run id (so `agent.wait` and
 * `chat.abort` find runs of any replica), with explicit TTLs for finished ones. A process's live runs
 * (abort controllers, completion promises) stay in the agents' `RunRegistry`.
 *
 * @module
 */
import type { ErrorShape } from "../errors.ts";
import type { ClaimGuard } from "./idempotency.ts";
import type { ChatResult } from "../providers/types.ts";

/** Where a run is. */
export type RunState = "queued" | "running" | "ok" | "error" | "aborted";

/** How a run ended. */
export interface RunOutcome {
  /** The id `agent` and `chat.send` answered with; `agent.wait` and `chat.abort` take it. */
  runId: string;
  /** The full key of the session it ran in. */
  sessionKey: string;
  /** The transcript it wrote to; empty when it ended before its session was opened. */
  sessionId: string;
  /** The agent that ran it. */
  agentId: string;
  /** `ok` when the model finished, `error` when it failed or timed out, `aborted` when it was cancelled. */
  status: "ok" | "error" | "aborted";
  /** When it started (or was given up while queued), ms since the epoch. */
  startedAt: number;
  /** When it ended, ms since the epoch. */
  endedAt: number;
  /** `provider/model` that served the run. */
  model?: string;
  /** The model's last reply with its usage; partial when the run failed or was aborted mid-stream. */
  result?: ChatResult;
  /** Why it failed or was aborted, as the protocol reports errors. */
  error?: ErrorShape;
  /** The thrown error, for callers that map it themselves (HTTP status codes). */
  cause?: unknown;
}

/**
 * The end of a run as the run store keeps it, plain data: enough for a caller on another replica whose
 * turn this run took over to be answered as if it had run there (an `agent` call's final, and its replay).
 */
export interface RunEnd {
  /** How it ended. */
  status: RunOutcome["status"];
  /** When it started (or was given up while queued), ms since the epoch. */
  startedAt: number;
  /** When it ended, ms since the epoch. */
  endedAt: number;
  /** Why it failed or was aborted. */
  error?: ErrorShape;
  /** The transcript it wrote to; unset when it ended before its session was opened. */
  sessionId?: string;
  /** `provider/model` that served it. */
  model?: string;
  /** The model's last reply (its tool calls left out: they are in the transcript). */
  reply?: Omit<ChatResult, "toolCalls">;
  /**
   * Set when the run's input was never saved: its caller was told to retry, and the retry runs under
   * the same run id (the call's idempotency key), so its records replace this one.
   */
  unsaved?: true;
}

/** A run as the run store keeps it. */
export interface StoredRun {
  /** The run's id, unique across replicas. */
  runId: string;
  /** The full key of the session it runs in. */
  sessionKey: string;
  /** The agent that runs it. */
  agentId: string;
  /** When the gateway accepted it, ms since the epoch. */
  acceptedAt: number;
  /** Where it is now. */
  state: RunState;
  /**
   * The replica that runs it (its id in the peers registry): once that replica is gone, another one ends
   * the run ({@link RunStore.endIfOwned}). Unset on records of runs no replica has taken.
   */
  replicaId?: string;
  /** Set when its session is not stored (it publishes no `chat` events). */
  ephemeral?: true;
  /**
   * The fingerprint of the call that started it (`MethodCall.fingerprint`): a later call of the same run id
   * that asked something else is another request's, whose key was forgotten and reused
   * (`agents/standing-run.ts`).
   */
  request?: string;
  /** Set once the run ended (then `state` is its status). */
  end?: RunEnd;
}

/** Run records by run id, shared by every replica. */
export interface RunStore {
  /**
   * Records a run (accepted, started or ended), replacing its previous record and keeping it `ttlMs`.
   * A record that ended is final: later puts for the same run change nothing, unless its input was never
   * saved (`end.unsaved`), when the call's retry replaces it. An unsaved end changes only a record of its
   * own attempt (the same `acceptedAt`): a failed attempt's late end never hides its retry's record. Only
   * equality is compared, so replicas' clocks need not agree. Resolves whether it wrote the record.
   */
  put(run: StoredRun, ttlMs: number): Promise<boolean>;
  /**
   * {@link RunStore.put}, but only while `claim` (a pending idempotency claim of the same backend) is its
   * owner's: a put sent before the claim was answered lands only if its call holds the key. Optional,
   * like `TranscriptStore.appendIfHeld`: without it, a turn run ahead of its claim writes its record once
   * the claim is won. Resolves whether it wrote the record: not while the claim follows a lapsed one and
   * is unconfirmed (`IdempotencyClaim.confirm`), so its call writes again once it confirmed it. Sent for a
   * turn's first record only: a record of the run there already means the key was used before (its
   * idempotency record and the order that listed it are gone), so the put writes nothing and marks the
   * claim as following a lapsed one, in the same step: its call looks at that run before it confirms.
   */
  putIfClaimed?(run: StoredRun, ttlMs: number, claim: ClaimGuard): Promise<boolean>;
  /** A run's record, unless it expired. */
  get(runId: string): Promise<StoredRun | undefined>;
  /** The session's runs that have not ended: queued ones first, each group in order of acceptance. */
  active(sessionKey: string): Promise<StoredRun[]>;
  /** Every session's runs that are `running` (started, not ended), in order of acceptance. */
  running(): Promise<StoredRun[]>;
  /**
   * Records `run`'s end (it carries one) only while the stored record has not ended and names the same
   * replica (`run.replicaId`), as one atomic step; resolves whether it did. A replica ends a dead
   * replica's run through it: a run ended meanwhile is not ended twice, and a run its call's retry took
   * over (the same run id, another replica) is left to that retry.
   */
  endIfOwned(run: StoredRun, ttlMs: number): Promise<boolean>;
}

/** Whether `stored` stays as it is when `run` is put: it ended for good, or `run` is another attempt's unsaved end. */
function keeps(stored: StoredRun, run: StoredRun): boolean {
  return (stored.end !== undefined && !stored.end.unsaved) ||
    (run.end?.unsaved === true && run.acceptedAt !== stored.acceptedAt);
}

/** A record's copy, so what a caller holds never aliases the store (records are plain, shallow data). */
function copyRun(run: StoredRun): StoredRun {
  return run.end ? { ...run, end: { ...run.end } } : { ...run };
}

/** Finished runs are remembered this long. */
export const FINISHED_RUN_TTL_MS = 10 * 60_000;
/** And at most this many of them. */
export const FINISHED_RUN_CAP = 2_000;

/** Run records in process memory, with an injectable clock for their expiry. */
export class MemoryRunStore implements RunStore {
  /** Oldest write first: a write moves a record to the end. */
  readonly #runs = new Map<string, { run: StoredRun; expiresAt: number }>();
  #finished = 0;

  /** `now` is the clock TTLs run on; at most `cap` ended runs are kept. */
  constructor(
    private readonly now: () => number = () => Date.now(),
    private readonly cap: number = FINISHED_RUN_CAP,
  ) {}

  /** Keeps a copy of the record for `ttlMs` ms, unless the stored record is final or of a later attempt. */
  put(run: StoredRun, ttlMs: number): Promise<boolean> {
    const previous = this.#live(run.runId);
    const writes = !previous || !keeps(previous, run);
    if (writes) this.#write(run, ttlMs, previous);
    return Promise.resolve(writes);
  }

  /** Writes the end unless the stored run ended, expired, or names another replica. */
  endIfOwned(run: StoredRun, ttlMs: number): Promise<boolean> {
    const previous = this.#live(run.runId);
    const writes = previous !== undefined && !previous.end && run.replicaId !== undefined &&
      previous.replicaId === run.replicaId;
    if (writes) this.#write(run, ttlMs, previous);
    return Promise.resolve(writes);
  }

  /** A copy of the run's record, unless it expired. */
  get(runId: string): Promise<StoredRun | undefined> {
    const run = this.#live(runId);
    return Promise.resolve(run && copyRun(run));
  }

  /** Copies of the session's unexpired runs that have not ended: queued first, each group oldest first. */
  active(sessionKey: string): Promise<StoredRun[]> {
    const runs: StoredRun[] = [];
    for (const { run } of this.#runs.values()) {
      if (run.sessionKey === sessionKey && !run.end && this.#live(run.runId)) runs.push(copyRun(run));
    }
    runs.sort((a, b) => a.acceptedAt - b.acceptedAt);
    return Promise.resolve([
      ...runs.filter((r) => r.state === "queued"),
      ...runs.filter((r) => r.state !== "queued"),
    ]);
  }

  /** Copies of every session's unexpired `running` runs, oldest first. */
  running(): Promise<StoredRun[]> {
    const runs = [...this.#runs.values()].map(({ run }) => run)
      .filter((run) => run.state === "running" && !run.end && this.#live(run.runId));
    return Promise.resolve(runs.sort((a, b) => a.acceptedAt - b.acceptedAt).map(copyRun));
  }

  #write(run: StoredRun, ttlMs: number, previous: StoredRun | undefined): void {
    if (previous) this.#forget(run.runId, previous);
    this.#runs.set(run.runId, { run: copyRun(run), expiresAt: this.now() + ttlMs });
    if (run.end) this.#finished++;
    this.#sweep();
  }

  #live(runId: string): StoredRun | undefined {
    const entry = this.#runs.get(runId);
    if (entry && entry.expiresAt <= this.now()) {
      this.#forget(runId, entry.run);
      return undefined;
    }
    return entry?.run;
  }

  #forget(runId: string, run: StoredRun): void {
    this.#runs.delete(runId);
    if (run.end) this.#finished--;
  }

  /** Drops expired records from the old end, and the oldest finished ones past the cap. */
  #sweep(): void {
    const now = this.now();
    for (const [runId, entry] of this.#runs) {
      const over = this.#finished > this.cap && entry.run.end !== undefined;
      if (entry.expiresAt > now && !over) {
        if (this.#finished <= this.cap) break;
        continue;
      }
      this.#forget(runId, entry.run);
    }
  }
}
