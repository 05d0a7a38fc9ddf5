/**
 * The scheduler loop, run by the replica that holds the cluster's `cron` lease. It claims every due job
 * (marking it running and moving its next run past now, in one store write) and starts its run, then
 * sleeps until the next job is due, a job changes (a `cron` event from any replica), or a minute passes.
 *
 * When it takes over (a start, a restart, a replica that died) it follows the reference's catch-up rule:
 * a run cut off by a stop is recorded as failed and not replayed; a job that missed slots while no one ran
 * the scheduler runs once, after `catchUpDelayMs` (the reference defers agent work by 2 minutes after
 * startup), or with `cron.skipMissedJobs` a recurring job skips to its next slot instead.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import { JOBS_POLL_MS as MAX_SLEEP_MS } from "./docs.ts";
import { type CronService, INTERRUPTED_ERROR, withState } from "./cron-service.ts";
import type { CronJob } from "./job.ts";
import { nextRunAt } from "./schedule.ts";

/** The reference's delay before missed agent-turn jobs run after a start: 2 minutes. */
export const DEFAULT_CATCH_UP_DELAY_MS = 120_000;

/** What the loop needs. */
export interface SchedulerOptions {
  service: CronService;
  now: () => number;
  logger: Logger;
  /** Read before each look: `cron.enabled` (and `OPENCLAW_SKIP_CRON`). */
  enabled: () => boolean;
  /** Read at catch-up: `cron.skipMissedJobs`. */
  skipMissedJobs: () => boolean;
  catchUpDelayMs: number;
  /** Calls `listener` whenever a job changes anywhere; answers the function that stops that. */
  onChange: (listener: () => void) => () => void;
}

/** Runs the loop until `signal` aborts, then waits for the runs it started to be recorded. */
export async function runScheduler(options: SchedulerOptions, signal: AbortSignal): Promise<void> {
  const wake = new Waker();
  const stopListening = options.onChange(() => wake.poke());
  let caughtUp = false;
  try {
    while (!signal.aborted) {
      let nextAt: number | undefined;
      if (options.enabled()) {
        if (!caughtUp) await catchUp(options);
        caughtUp = true;
        nextAt = await tick(options);
      }
      const delay = nextAt === undefined
        ? MAX_SLEEP_MS
        : Math.min(Math.max(nextAt - options.now(), 0), MAX_SLEEP_MS);
      await wake.sleep(delay, signal);
    }
  } finally {
    stopListening();
    await options.service.settled();
  }
}

/** Claims and starts every due job; answers when the next one is due. */
async function tick({ service, now: clock }: SchedulerOptions): Promise<number | undefined> {
  const now = clock();
  const due = await service.store.update(async (jobs) => {
    const claimed: CronJob[] = [];
    for (const [index, job] of jobs.entries()) {
      const at = job.state.nextRunAtMs;
      if (!job.enabled || job.state.runningAtMs !== undefined || at === undefined || at > now) continue;
      const running = withState(job, { runningAtMs: now, lastRunAtMs: now });
      // The slot is consumed here: however late this tick is, the next run is the next slot after now.
      const next = job.schedule.kind === "at" ? undefined : await nextRunAt(running, now);
      jobs[index] = withState(running, { nextRunAtMs: next });
      claimed.push(structuredClone(jobs[index]));
    }
    return claimed;
  });
  for (const job of due) service.start(job);
  return earliestRun(await service.store.jobs());
}

function earliestRun(jobs: CronJob[]): number | undefined {
  const times = jobs.flatMap((job) =>
    job.enabled && job.state.runningAtMs === undefined && job.state.nextRunAtMs !== undefined
      ? [job.state.nextRunAtMs]
      : []
  );
  return times.length ? Math.min(...times) : undefined;
}

/** The take-over rules (see the module doc). */
async function catchUp(options: SchedulerOptions): Promise<void> {
  const { service, logger } = options;
  const now = options.now();
  const ours = service.running();
  const skip = options.skipMissedJobs();
  const cut: CronJob[] = [];
  const missed: string[] = [];
  await service.store.update(async (jobs) => {
    for (const [index, job] of jobs.entries()) {
      let next = job;
      if (job.state.runningAtMs !== undefined && !ours.has(job.id)) {
        cut.push(job);
        next = withState(job, { runningAtMs: undefined });
      }
      const at = next.state.nextRunAtMs;
      if (!next.enabled || (at !== undefined && at >= now)) {
        jobs[index] = next;
        continue;
      }
      const upcoming = await nextRunAt(next, now);
      const catchUpOnce = at !== undefined && upcoming !== undefined &&
        !(skip && next.schedule.kind !== "at");
      if (catchUpOnce) missed.push(next.id);
      jobs[index] = withState(next, { nextRunAtMs: catchUpOnce ? now + options.catchUpDelayMs : upcoming });
    }
  });
  if (missed.length) logger.info("cron: missed jobs run once after the catch-up delay", { jobIds: missed });
  for (const job of cut) {
    const runAtMs = job.state.runningAtMs ?? now;
    const entry = {
      ts: now,
      jobId: job.id,
      action: "finished" as const,
      status: "error" as const,
      error: INTERRUPTED_ERROR,
      runAtMs,
      durationMs: Math.max(0, now - runAtMs),
      deliveryStatus: "unknown" as const,
    };
    await service.record(job.id, entry);
    await service.store.appendRun(entry);
  }
}

/** A sleep that a poke ends early; a poke while awake ends the next sleep at once. */
class Waker {
  #poked = false;
  #wake: (() => void) | undefined;

  poke(): void {
    this.#poked = true;
    this.#wake?.();
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#poked || signal.aborted) {
      this.#poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.#wake = undefined;
        this.#poked = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.#wake = done;
    });
  }
}
