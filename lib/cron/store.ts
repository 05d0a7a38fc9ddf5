/**
 * Where jobs and their run history are kept: two documents behind the `JsonDocs` seam (`cron/jobs.json`,
 * `cron/runs.json`), which the runner keeps as files under the state dir, so jobs survive a restart and the
 * CLI reads the same state. Every change is a read-modify-write of one document, done one at a time per
 * `JsonDocs` in this process. Gateways in other processes that share the documents (the same files) read
 * them fresh before each change, but `JsonDocs` has no compare-and-set, so two processes changing jobs at the
 * same instant can lose one change; a store with one (Redis) is the step after this one. A job that no longer
 * matches the schema (a hand edit) is set aside and written back untouched rather than dropped.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { JsonDocs } from "../state/json-docs.ts";
import { JOBS_DOC, RUNS_DOC } from "./docs.ts";
import { type CronJob, CronJobSchema, type CronRunLogEntry, CronRunLogEntrySchema } from "./job.ts";
/** Newest runs kept per job; older ones are dropped as new ones arrive. */
export const RUNS_KEPT_PER_JOB = 200;

/** Jobs and run history over {@link JsonDocs}. */
export class CronStore {
  /** `logger` hears about documents that no longer parse. */
  constructor(private readonly docs: JsonDocs, private readonly logger: Logger) {}

  /** Every job, as stored now. */
  async jobs(): Promise<CronJob[]> {
    return (await this.#readJobs()).jobs;
  }

  /**
   * Runs `change` on the stored jobs (it may change, add and remove entries of the array) and stores the
   * result, unless nothing changed. A `docs.update`: no other writer's change (another replica's
   * `cron.add`, the scheduler's bookkeeping) is lost, and `change` may run again on the newer jobs, so it
   * only computes.
   */
  update<T>(change: (jobs: CronJob[]) => T | Promise<T>): Promise<T> {
    return this.docs.update(JOBS_DOC, async (doc) => {
      const { jobs, setAside } = this.#parseJobs(doc);
      const before = JSON.stringify(jobs);
      const result = await change(jobs);
      return JSON.stringify(jobs) !== before
        ? { value: { version: 1, jobs: [...jobs, ...setAside] }, result }
        : { result };
    });
  }

  /** Every recorded run, oldest first. */
  async runs(): Promise<CronRunLogEntry[]> {
    return runsOf(await this.docs.read(RUNS_DOC));
  }

  /** Records a finished run, keeping the newest {@link RUNS_KEPT_PER_JOB} of its job. */
  async appendRun(entry: CronRunLogEntry): Promise<void> {
    await this.docs.update(RUNS_DOC, (doc) => {
      const runs = [...runsOf(doc), entry];
      const ofJob = runs.filter((run) => run.jobId === entry.jobId);
      const drop = new Set(ofJob.slice(0, Math.max(0, ofJob.length - RUNS_KEPT_PER_JOB)));
      return { value: { version: 1, runs: runs.filter((run) => !drop.has(run)) }, result: undefined };
    });
  }

  async #readJobs(): Promise<{ jobs: CronJob[]; setAside: unknown[] }> {
    return this.#parseJobs(await this.docs.read(JOBS_DOC));
  }

  #parseJobs(stored: unknown): { jobs: CronJob[]; setAside: unknown[] } {
    const doc = stored as { jobs?: unknown } | undefined;
    const jobs: CronJob[] = [];
    const setAside: unknown[] = [];
    for (const raw of Array.isArray(doc?.jobs) ? doc.jobs : []) {
      const parsed = CronJobSchema.safeParse(raw);
      if (parsed.success) jobs.push(parsed.data);
      else {
        setAside.push(raw);
        this.logger.warn("cron: stored job does not match the job schema; left as it is", {
          jobId: (raw as { id?: unknown })?.id,
          issues: parsed.error.issues.length,
        });
      }
    }
    return { jobs, setAside };
  }
}

/** The well-formed runs of a run-history document. */
function runsOf(stored: unknown): CronRunLogEntry[] {
  const raw = (stored as { runs?: unknown } | undefined)?.runs;
  return (Array.isArray(raw) ? raw : []).flatMap((entry) => {
    const parsed = CronRunLogEntrySchema.safeParse(entry);
    return parsed.success ? [parsed.data] : [];
  });
}
