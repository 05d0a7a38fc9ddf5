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

/** This process's live runs by id; a run leaves once it ended (the run store remembers it). */
export class RunRegistry {
  readonly #runs = new Map<string, RunRecord>();

  get(runId: string): RunRecord | undefined {
    return this.#runs.get(runId);
  }

  add(record: RunRecord): void {
    this.#runs.set(record.runId, record);
    record.done.then((outcome) => {
      record.outcome = outcome;
      record.state = outcome.status;
      this.#runs.delete(record.runId);
    });
  }

  /** Runs of a session that have not finished, queued ones first. */
  active(sessionKey: string): RunRecord[] {
    const runs = [...this.#runs.values()].filter((r) => r.sessionKey === sessionKey && !r.outcome);
    return [...runs.filter((r) => r.state === "queued"), ...runs.filter((r) => r.state !== "queued")];
  }
}
