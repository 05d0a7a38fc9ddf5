/**
 * How jobs and runs are shown to clients, as the reference shows them: a job with its state's headline
 * fields repeated at the top (`nextRunAtMs`, `lastRunStatus`, ...) and a `configRevision`; `cron.list`
 * pages filtered and sorted by the reference's rules, with the `snapshotRevision` the Control UI needs;
 * run history pages newest first.
 *
 * @module
 */
import { base64UrlEncode } from "../encoding.ts";
import type { CronJob, CronListParams, CronRunLogEntry, CronRunsParams } from "./job.ts";

/** Keys sorted at every level, so equal values hash the same (the reference's stable stringify). */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  const record = value as Record<string, unknown>;
  const fields = Object.keys(record).filter((key) => record[key] !== undefined).sort();
  return `{${fields.map((key) => `${JSON.stringify(key)}:${stableStringify(record[key])}`).join(",")}}`;
}

/** `sha256:` and the base64url SHA-256 of `value`'s stable JSON, the reference's revision format. */
export async function revisionOf(value: unknown): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(stableStringify(value)));
  return `sha256:${base64UrlEncode(new Uint8Array(digest))}`;
}

/** The revision of a job's definition: what `cron.update`'s `expectedConfigRevision` is compared with. */
export function configRevision(job: CronJob): Promise<string> {
  const { state: _state, createdAtMs: _created, updatedAtMs: _updated, ...definition } = job;
  return revisionOf(definition);
}

/** A job as `cron.get`, `cron.add` and `cron.update` answer it. */
export async function jobView(job: CronJob): Promise<Record<string, unknown>> {
  const { state } = job;
  const headline = {
    nextRunAtMs: state.nextRunAtMs,
    lastRunAtMs: state.lastRunAtMs,
    lastRunStatus: state.lastRunStatus ?? state.lastStatus,
    lastRunError: state.lastError,
    lastDeliveryStatus: state.lastDeliveryStatus,
  };
  const defined = Object.fromEntries(Object.entries(headline).filter(([, v]) => v !== undefined));
  return { ...job, configRevision: await configRevision(job), ...defined };
}

/** The compact row `cron.list` answers with `compact: true`. */
export function compactJobView(job: CronJob): Record<string, unknown> {
  const { state } = job;
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: job.id,
    name: job.name,
    ...(job.agentId !== undefined ? { agentId: job.agentId } : {}),
    updatedAtMs: job.updatedAtMs,
    ...(job.displayName ? { displayName: job.displayName } : {}),
    enabled: job.enabled,
    nextRunAt: iso(state.nextRunAtMs),
    nextRunAtMs: state.nextRunAtMs ?? null,
    scheduleKind: job.schedule.kind,
    schedule: job.schedule,
    lastRunAt: iso(state.lastRunAtMs),
    lastRunAtMs: state.lastRunAtMs ?? null,
    lastRunStatus: state.lastRunStatus ?? state.lastStatus ?? null,
    lastRunError: state.lastError ?? null,
    ...(state.runningAtMs !== undefined ? { runningAtMs: state.runningAtMs } : {}),
    ...(state.lastDeliveryStatus !== undefined ? { lastDeliveryStatus: state.lastDeliveryStatus } : {}),
  };
}

/** A page's position, as the Control UI checks it. */
export interface PagePosition {
  total: number;
  offset: number;
  limit: number;
  hasMore: boolean;
  nextOffset: number | null;
}

/** The slice of `rows` at `offset` (clamped to the rows) of at most `limit`, and its position. */
export function pageOf<T>(
  rows: T[],
  offset: number | undefined,
  limit: number,
): { rows: T[] } & PagePosition {
  const total = rows.length;
  const start = Math.max(0, Math.min(total, offset ?? 0));
  const slice = rows.slice(start, start + limit);
  const next = start + slice.length;
  return {
    rows: slice,
    total,
    offset: start,
    limit,
    hasMore: next < total,
    nextOffset: next < total ? next : null,
  };
}

/** The jobs `cron.list` shows, filtered and sorted as the reference does. */
export function listedJobs(jobs: CronJob[], params: CronListParams, defaultAgentId: string): CronJob[] {
  const enabledFilter = params.enabled ?? (params.includeDisabled ? "all" : "enabled");
  const query = params.query?.trim().toLowerCase();
  const kept = jobs.filter((job) => {
    if (enabledFilter !== "all" && job.enabled !== (enabledFilter === "enabled")) return false;
    if (params.agentId && (job.agentId ?? defaultAgentId) !== params.agentId.toLowerCase()) return false;
    if (params.scheduleKind && params.scheduleKind !== "all" && job.schedule.kind !== params.scheduleKind) {
      return false;
    }
    const status = job.state.lastRunStatus ?? job.state.lastStatus ?? "unknown";
    if (params.lastRunStatus && params.lastRunStatus !== "all" && status !== params.lastRunStatus) {
      return false;
    }
    // This gateway has no condition triggers: every job is unconditional.
    if (params.trigger === "conditional") return false;
    const text = [job.id, job.name, job.description ?? "", job.agentId ?? "", job.displayName ?? ""].join(
      " ",
    );
    return !query || text.toLowerCase().includes(query);
  });
  return kept.sort(jobOrder(params.sortBy ?? "nextRunAtMs", params.sortDir === "desc" ? -1 : 1));
}

function jobOrder(sortBy: "nextRunAtMs" | "updatedAtMs" | "name", dir: number) {
  const names = new Intl.Collator(undefined, { sensitivity: "base" }).compare;
  return (a: CronJob, b: CronJob): number => {
    let cmp = 0;
    if (sortBy === "name") cmp = names(a.name, b.name);
    else if (sortBy === "updatedAtMs") cmp = a.updatedAtMs - b.updatedAtMs;
    else {
      const [x, y] = [a.state.nextRunAtMs, b.state.nextRunAtMs];
      // Jobs with no next run go last, whichever way the list is sorted.
      if (x === undefined || y === undefined) {
        if (x !== y) return x === undefined ? 1 : -1;
      } else cmp = x - y;
    }
    return cmp !== 0 ? cmp * dir : a.id.localeCompare(b.id);
  };
}

/** The runs `cron.runs` shows: filtered, newest first unless `sortDir` is `asc`. */
export function listedRuns(runs: CronRunLogEntry[], params: CronRunsParams, jobId: string | undefined) {
  const statuses = params.statuses?.length
    ? params.statuses
    : params.status && params.status !== "all"
    ? [params.status]
    : undefined;
  const deliveries = params.deliveryStatuses?.length
    ? params.deliveryStatuses
    : params.deliveryStatus
    ? [params.deliveryStatus]
    : undefined;
  const query = params.query?.trim().toLowerCase();
  const dir = params.sortDir === "asc" ? 1 : -1;
  return runs
    .map((run, order) => ({ run, order }))
    .filter(({ run }) =>
      (!jobId || run.jobId === jobId) &&
      (!params.runId || run.runId === params.runId) &&
      (!statuses || statuses.includes(run.status)) &&
      (!deliveries || deliveries.includes(run.deliveryStatus ?? "not-requested")) &&
      (!query ||
        [run.summary ?? "", run.error ?? "", run.jobId, run.jobName ?? ""].join(" ").toLowerCase().includes(
          query,
        ))
    )
    .sort((a, b) => dir * (a.run.ts - b.run.ts) || dir * (a.order - b.order))
    .map(({ run }) => run);
}
