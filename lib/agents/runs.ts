/**
 * The runs the gateway knows about: in flight (so they can be aborted and waited for) and recently
 * finished (so `agent.wait` still finds them).
 *
 * @module
 */
import type { ErrorShape } from "../errors.ts";
import type { ChatResult } from "../providers/types.ts";

/** Where a run is. */
export type RunState = "queued" | "running" | "ok" | "error" | "aborted";

/** How a run ended. */
export interface RunOutcome {
  runId: string;
  sessionKey: string;
  sessionId: string;
  agentId: string;
  status: "ok" | "error" | "aborted";
  startedAt: number;
  endedAt: number;
  /** `provider/model` that served the run. */
  model?: string;
  result?: ChatResult;
  error?: ErrorShape;
  /** The thrown error, for callers that map it themselves (HTTP status codes). */
  cause?: unknown;
}

/** A run as the registry tracks it. */
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

/** Finished runs are remembered this long. */
export const FINISHED_RUN_TTL_MS = 10 * 60_000;
/** And at most this many of them. */
export const FINISHED_RUN_CAP = 2_000;

/** Tracks runs by id. */
export class RunRegistry {
  readonly #runs = new Map<string, RunRecord>();
  readonly #finished: { runId: string; at: number }[] = [];
  readonly #waiters = new Map<string, Set<(record: RunRecord) => void>>();

  constructor(private readonly now: () => number) {}

  get(runId: string): RunRecord | undefined {
    return this.#runs.get(runId);
  }

  add(record: RunRecord): void {
    this.#sweep();
    this.#runs.set(record.runId, record);
    for (const waiter of this.#waiters.get(record.runId) ?? []) waiter(record);
    this.#waiters.delete(record.runId);
    record.done.then((outcome) => {
      record.outcome = outcome;
      record.state = outcome.status;
      this.#finished.push({ runId: record.runId, at: this.now() });
    });
  }

  /** Runs of a session that have not finished, queued ones first. */
  active(sessionKey: string): RunRecord[] {
    const runs = [...this.#runs.values()].filter((r) => r.sessionKey === sessionKey && !r.outcome);
    return [...runs.filter((r) => r.state === "queued"), ...runs.filter((r) => r.state !== "queued")];
  }

  /** Resolves with the run once it is registered, or undefined when `signal` aborts first. */
  whenKnown(runId: string, signal: AbortSignal): Promise<RunRecord | undefined> {
    const known = this.#runs.get(runId);
    if (known || signal.aborted) return Promise.resolve(known);
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(runId) ?? new Set();
      this.#waiters.set(runId, waiters);
      const waiter = (record: RunRecord) => {
        signal.removeEventListener("abort", onAbort);
        resolve(record);
      };
      const onAbort = () => {
        waiters.delete(waiter);
        if (!waiters.size) this.#waiters.delete(runId);
        resolve(undefined);
      };
      waiters.add(waiter);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #sweep(): void {
    const cutoff = this.now() - FINISHED_RUN_TTL_MS;
    while (
      this.#finished.length && (this.#finished[0].at < cutoff || this.#finished.length > FINISHED_RUN_CAP)
    ) {
      this.#runs.delete(this.#finished.shift()!.runId);
    }
  }
}
