/**
 * The jobs and their runs: create, change and remove jobs, start a run (the scheduler's or `cron.run`'s),
 * record how it ended, and announce every change as the reference's `cron` event. A run's slot is written
 * to the store (the job marked running, its next run moved on) before its turn starts, so neither a late
 * tick nor another replica can start the same slot again, and a crash mid-run does not replay it.
 *
 * @module
 */
import type { AgentRuntime } from "../agents/runtime.ts";
import type { Logger } from "../log/logger.ts";
import type { CronJob, CronRunLogEntry } from "./job.ts";
import { runJobTurn } from "./run-job.ts";
import { nextRunAt, parseAtMs } from "./schedule.ts";
import type { CronStore } from "./store.ts";

/** A `cron` event payload: what happened to which job (`job` is its state after the change). */
export type CronEvent =
  & { jobId: string; action: "added" | "updated" | "removed" | "started" | "finished"; job?: CronJob }
  & Partial<Omit<CronRunLogEntry, "jobId" | "action">>;

/** What a {@link CronService} needs from the gateway. */
export interface CronServiceOptions {
  store: CronStore;
  now: () => number;
  newId: () => string;
  logger: Logger;
  /** The agents runtime, once the agents module is set up; runs fail with a clear error without one. */
  runtime: () => AgentRuntime | undefined;
  /** Sends a `cron` event to the operators of every replica. */
  publish: (event: CronEvent) => void;
}

/** Why `cron.run` did not start a run, in the reference's words. */
export type NotRunReason = "already-running" | "not-due" | "disabled";

/** The reference's error message when a run was cut off by a stop, and a restart finds it unfinished. */
export const INTERRUPTED_ERROR = "cron: run interrupted (the gateway stopped before it finished)";

/** The reference's back-off after consecutive failed runs of a recurring job. */
export const ERROR_BACKOFF_MS: readonly number[] = [30_000, 60_000, 300_000, 900_000, 3_600_000];

/** Jobs and runs over one {@link CronStore}. */
export class CronService {
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(private readonly options: CronServiceOptions) {}

  /** The store the service keeps its jobs in. */
  get store(): CronStore {
    return this.options.store;
  }

  /** Ids of the jobs this process is running now. */
  running(): ReadonlySet<string> {
    return new Set(this.#inFlight.keys());
  }

  /** Resolves once every run this process started has been recorded. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight.values());
  }

  /** Stores `job` (with its next run worked out), announces it, and answers it as stored. */
  async save(job: CronJob, action: "added" | "updated"): Promise<CronJob> {
    const saved = await this.options.store.update(async (jobs) => {
      const index = jobs.findIndex((j) => j.id === job.id);
      // The definition is the caller's; the state is the store's, which a run may have moved since.
      const current = { ...job, state: index < 0 ? job.state : jobs[index].state };
      const next = withState(current, { nextRunAtMs: await nextRunAt(current, this.options.now()) });
      if (index < 0) jobs.push(next);
      else jobs[index] = next;
      return next;
    });
    this.options.publish({ jobId: saved.id, action, job: saved, nextRunAtMs: saved.state.nextRunAtMs });
    return saved;
  }

  /** Removes a job; false when there was none. Its history stays readable. */
  async remove(id: string): Promise<boolean> {
    const removed = await this.options.store.update((jobs) => {
      const index = jobs.findIndex((job) => job.id === id);
      return index < 0 ? undefined : jobs.splice(index, 1)[0];
    });
    if (removed) this.options.publish({ jobId: id, action: "removed", job: removed });
    return removed !== undefined;
  }

  /**
   * Runs a job now for `cron.run`: `force` whatever its schedule, `due` only when its slot has come,
   * `if-enabled` only when enabled. A forced run leaves the job's next slot where it was.
   */
  async runNow(id: string, mode: "due" | "force" | "if-enabled"): Promise<{ runId: string } | NotRunReason> {
    const now = this.options.now();
    const claimed = await this.options.store.update((jobs): CronJob | NotRunReason | undefined => {
      const job = jobs.find((j) => j.id === id);
      if (!job) return undefined;
      if (job.state.runningAtMs !== undefined || this.#inFlight.has(id)) return "already-running";
      if (mode === "if-enabled" && !job.enabled) return "disabled";
      if (
        mode === "due" &&
        !(job.enabled && job.state.nextRunAtMs !== undefined && job.state.nextRunAtMs <= now)
      ) {
        return "not-due";
      }
      job.state.runningAtMs = now;
      return structuredClone(job);
    });
    if (claimed === undefined) throw new Error(`unknown cron job id: ${id}`);
    if (typeof claimed === "string") return claimed;
    return { runId: this.start(claimed) };
  }

  /**
   * Runs a job whose slot the caller already claimed in the store (`runningAtMs` set), records the
   * outcome, and answers the run's id at once.
   */
  start(job: CronJob): string {
    const runId = `cron:${job.id}:${this.options.now()}:${this.options.newId().slice(0, 8)}`;
    const run = this.#run(job, runId).catch((error) =>
      this.options.logger.error("cron: run could not be recorded", {
        jobId: job.id,
        runId,
        error: String(error),
      })
    ).finally(() => this.#inFlight.delete(job.id));
    this.#inFlight.set(job.id, run);
    return runId;
  }

  async #run(job: CronJob, runId: string): Promise<void> {
    const { logger, now, publish } = this.options;
    publish({ jobId: job.id, action: "started", job, runAtMs: job.state.runningAtMs ?? now() });
    logger.info("cron: run started", { jobId: job.id, runId });
    const runtime = this.options.runtime();
    const entry: CronRunLogEntry = runtime ? await runJobTurn(runtime, job, runId, now) : {
      ts: now(),
      jobId: job.id,
      action: "finished",
      status: "error",
      error: "cron runs need the agents module, which this gateway does not have",
      runId,
      runAtMs: now(),
      deliveryStatus: "not-requested",
    };
    const after = await this.record(job.id, entry);
    const finished = {
      ...entry,
      ...(after?.state.nextRunAtMs !== undefined ? { nextRunAtMs: after.state.nextRunAtMs } : {}),
    };
    await this.options.store.appendRun(finished);
    publish({ ...finished, ...(after ? { job: after } : {}) });
    logger.info("cron: run finished", { jobId: job.id, runId, status: entry.status, error: entry.error });
  }

  /**
   * Writes a finished run into its job's state: a one-shot that succeeded is deleted (`deleteAfterRun`)
   * or kept without a next run, one that failed is kept disabled for inspection; a recurring job that
   * failed waits out its back-off before its next run, as the reference does.
   * Answers the job as stored, or undefined when it is gone.
   */
  record(jobId: string, entry: CronRunLogEntry): Promise<CronJob | undefined> {
    const now = this.options.now();
    return this.options.store.update(async (jobs) => {
      const index = jobs.findIndex((job) => job.id === jobId);
      if (index < 0) return undefined;
      const job = jobs[index];
      const { runningAtMs: _running, lastError: _error, ...kept } = job.state;
      job.state = {
        ...kept,
        lastRunAtMs: entry.runAtMs ?? entry.ts,
        lastRunStatus: entry.status,
        lastStatus: entry.status,
        ...(entry.error ? { lastError: entry.error } : {}),
        ...(entry.durationMs !== undefined ? { lastDurationMs: entry.durationMs } : {}),
        consecutiveErrors: entry.status === "error" ? (job.state.consecutiveErrors ?? 0) + 1 : 0,
        lastDeliveryStatus: "not-requested",
      };
      // A one-shot run before its time (`cron.run`) leaves the job waiting for that time.
      if (job.schedule.kind === "at" && parseAtMs(job.schedule.at) <= (entry.runAtMs ?? entry.ts)) {
        if (entry.status === "ok" && job.deleteAfterRun) {
          jobs.splice(index, 1);
          return undefined;
        }
        if (entry.status !== "ok") job.enabled = false;
      }
      const pending = job.state.nextRunAtMs;
      let next = job.schedule.kind !== "at" && pending !== undefined && pending > now && job.enabled
        ? pending
        : await nextRunAt(job, now);
      if (next !== undefined && entry.status === "error") {
        // Consecutive failures back off (30 s, 1 min, 5 min, 15 min, 1 h) from the end of the failed run.
        const step =
          ERROR_BACKOFF_MS[Math.min((job.state.consecutiveErrors ?? 1) - 1, ERROR_BACKOFF_MS.length - 1)];
        next = Math.max(next, entry.ts + step);
      }
      jobs[index] = withState(job, { nextRunAtMs: next });
      return jobs[index];
    });
  }
}

/** `job` with its state changed; a field set to `undefined` is left out rather than kept as a key. */
export function withState(job: CronJob, change: Partial<CronJob["state"]>): CronJob {
  const state: CronJob["state"] = { ...job.state, ...change };
  for (const key of Object.keys(state) as (keyof CronJob["state"])[]) {
    if (state[key] === undefined) delete state[key];
  }
  return { ...job, state };
}
