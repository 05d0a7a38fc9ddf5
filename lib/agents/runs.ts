/**
 * This process's live runs (their abort controllers and completion promises), which never leave the
 * process. Every run's state and outcome is also recorded in the shared `RunStore`
 * (lib/state/runs.ts), which every replica reads.
 *
 * @module
 */
import type { RunOutcome, RunState } from "../state/runs.ts";

/** A live run of this process. */
export interface RunRecord {
  runId: string;
  sessionKey: string;
  agentId: string;
  acceptedAt: number;
  state: RunState;
  controller: AbortController;
  done: Promise<RunOutcome>;
  outcome?: RunOutcome;
}

/** A run of this process that has not ended yet, as the agents runtime shows it. */
export interface LiveRun {
  /** The run's id, unique across replicas. */
  readonly runId: string;
  /** The full key of the session it runs in. */
  readonly sessionKey: string;
  /** The id of the agent whose model, timeout and concurrency limit the run uses. */
  readonly agentId: string;
  /** When the gateway accepted it, ms since the epoch. */
  readonly acceptedAt: number;
  /** `queued` while it waits for its session or an agent slot, then `running`. */
  readonly state: RunState;
  /** Settles with how the run ended. */
  readonly done: Promise<RunOutcome>;
}

/** This process's live runs, read-only (aborting goes through the runtime, which reaches every replica). */
export interface LiveRuns {
  /** The session's runs of this process that have not finished, queued ones first. */
  active(sessionKey: string): LiveRun[];
}

/**
 * This process's live runs by id; a run leaves once it ended (the run store remembers it). Only a run
 * whose call holds its key is added (never a duplicate); a later run of the same id (the retry of a
 * call that failed, while the failed attempt winds down) replaces the earlier in the registry, and the
 * earlier's end leaves it there.
 */
export class RunRegistry implements LiveRuns {
  readonly #runs = new Map<string, RunRecord>();

  get(runId: string): RunRecord | undefined {
    return this.#runs.get(runId);
  }

  add(record: RunRecord): void {
    this.#runs.set(record.runId, record);
    record.done.then((outcome) => {
      record.outcome = outcome;
      record.state = outcome.status;
      if (this.#runs.get(record.runId) === record) this.#runs.delete(record.runId);
    });
  }

  /** Runs of a session that have not finished, queued ones first. */
  active(sessionKey: string): RunRecord[] {
    const runs = [...this.#runs.values()].filter((r) => r.sessionKey === sessionKey && !r.outcome);
    return [...runs.filter((r) => r.state === "queued"), ...runs.filter((r) => r.state !== "queued")];
  }
}
