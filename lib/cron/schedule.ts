/**
 * When a job runs next, by the reference's rules: an `every` job runs `everyMs` after its last run, or on
 * the grid from its anchor (its creation by default); an `at` job once at its time (again only if the time
 * moved past a successful run); a `cron` job at the expression's next time, shifted by a stable per-job
 * offset inside its stagger window. Each rule answers the next time strictly after `now`, so a tick that
 * comes late runs a missed slot once and moves on, never once per slot it missed.
 *
 * @module
 */
import { CronExpressionError, hostTimeZone, nextCronTime, parseCronExpression } from "./cron-expr.ts";
import type { CronJob, CronSchedule } from "./job.ts";

/** The stagger the reference gives recurring top-of-hour expressions when none is set: up to 5 minutes. */
export const DEFAULT_TOP_OF_HOUR_STAGGER_MS = 300_000;

/** `at` times without a zone are UTC, as the reference reads them; the result is ms, or NaN. */
export function parseAtMs(at: string): number {
  const text = at.trim();
  const zoneless = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text);
  return Date.parse(zoneless ? `${text}Z` : text);
}

/** Whether `expr` fires at minute 0 of every (or every n-th) hour, which the reference staggers by default. */
export function isRecurringTopOfHour(expr: string): boolean {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5 && !(fields.length === 6 && fields[0] === "0")) return false;
  const [minute, hour] = fields.slice(fields.length - 5);
  if (minute !== "0") return false;
  const parts = hour.split(",");
  return parts.every((part) => /^(?:\d+|\d+-\d+)(?:\/\d+)?$|^[*?](?:\/\d+)?$/.test(part)) &&
    parts.some((part) => part.startsWith("*") || part.startsWith("?"));
}

/** A job's offset inside its stagger window: the first 4 bytes of SHA-256 of its id, as the reference takes it. */
async function staggerOffsetMs(jobId: string, staggerMs: number): Promise<number> {
  if (staggerMs <= 1) return 0;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(jobId));
  return new DataView(digest).getUint32(0) % staggerMs;
}

/** The next time `schedule` fires after `now`, or `undefined` when it never fires again. */
export async function nextRunAt(job: CronJob, now: number): Promise<number | undefined> {
  if (!job.enabled) return undefined;
  const { schedule, state } = job;
  switch (schedule.kind) {
    case "every": {
      const anchor = schedule.anchorMs ?? job.createdAtMs;
      const last = state.lastRunAtMs;
      if (last !== undefined && last >= anchor && last + schedule.everyMs > now) {
        return last + schedule.everyMs;
      }
      if (now < anchor) return anchor;
      return anchor + (Math.floor((now - anchor) / schedule.everyMs) + 1) * schedule.everyMs;
    }
    case "at": {
      const at = parseAtMs(schedule.at);
      if (Number.isNaN(at)) return undefined;
      if (state.lastRunStatus === "ok" && state.lastRunAtMs !== undefined) {
        return at > state.lastRunAtMs ? at : undefined;
      }
      return at;
    }
    case "cron":
      return await nextCronRun(job.id, schedule, now);
  }
}

async function nextCronRun(
  jobId: string,
  schedule: Extract<CronSchedule, { kind: "cron" }>,
  now: number,
): Promise<number | undefined> {
  const cron = parseCronExpression(schedule.expr);
  const zone = schedule.tz ?? hostTimeZone();
  const stagger = schedule.staggerMs ??
    (isRecurringTopOfHour(schedule.expr) ? DEFAULT_TOP_OF_HOUR_STAGGER_MS : 0);
  const offset = await staggerOffsetMs(jobId, stagger);
  let cursor = now - offset;
  // A slot shifted by the offset may still be at or before now; the one after it is not.
  for (let attempt = 0; attempt < 4; attempt++) {
    const base = nextCronTime(cron, cursor, zone);
    if (base === undefined) return undefined;
    if (base + offset > now) return base + offset;
    cursor = base;
  }
  return undefined;
}

/** Throws a {@link CronExpressionError} when a `cron` schedule's expression or zone is unusable. */
export function checkCronSchedule(schedule: CronSchedule, now: number): void {
  if (schedule.kind !== "cron") return;
  const cron = parseCronExpression(schedule.expr);
  const zone = schedule.tz ?? hostTimeZone();
  if (nextCronTime(cron, now, zone) === undefined) {
    throw new CronExpressionError(
      `cron expression "${schedule.expr}" has no upcoming run time and would never fire`,
    );
  }
}
