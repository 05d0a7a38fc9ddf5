/**
 * Where cron keeps its state in `JsonDocs`, and the one question the module asks before it loads the rest
 * of cron: is there any job at all?
 *
 * @module
 */

/** The document of jobs. */
export const JOBS_DOC = "cron/jobs.json";
/**
 * Longest wait between looks at the jobs, with or without a scheduler running: a change whose `cron` event
 * was lost (the bus delivers at most once) is still picked up.
 */
export const JOBS_POLL_MS = 60_000;
/** The document of finished runs. */
export const RUNS_DOC = "cron/runs.json";

/** Whether a stored jobs document holds any entry (well-formed or not: a scheduler must look at it). */
export function holdsJobs(doc: unknown): boolean {
  const jobs = (doc as { jobs?: unknown } | undefined)?.jobs;
  return Array.isArray(jobs) && jobs.length > 0;
}
