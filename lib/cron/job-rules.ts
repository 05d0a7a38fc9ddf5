/**
 * From params to a job: the reference's create-time defaults (enabled, `wakeMode: "now"`, the session
 * target implied by the payload, a name from the payload's first line, `deleteAfterRun` for one-shots, the
 * top-of-hour stagger), patches, and the checks a job must pass before it is saved. A refusal is a plain
 * `Error` whose message the method puts after `invalid cron.<method> params: `.
 *
 * @module
 */
import { canonicalSessionKey } from "../agents/session-keys.ts";
import { checkTimeZone } from "./cron-expr.ts";
import {
  type CronAddParams,
  type CronJob,
  type CronPatch,
  CronPayloadSchema,
  type CronSchedule,
} from "./job.ts";
import {
  checkCronSchedule,
  DEFAULT_TOP_OF_HOUR_STAGGER_MS,
  isRecurringTopOfHour,
  parseAtMs,
} from "./schedule.ts";

const ONE_MINUTE_MS = 60_000;
const TEN_YEARS_MS = 315_576_000_000;

/** A new job from `cron.add` params, with the reference's defaults filled in. */
export function createJob(params: CronAddParams, id: string, now: number): CronJob {
  const sessionKey = params.sessionKey ?? undefined;
  const payloadKind = params.payload.kind;
  let sessionTarget = params.sessionTarget ?? (payloadKind === "systemEvent" ? "main" : "current");
  // `current` means the conversation that created the job; a caller without one gets `isolated`.
  if (sessionTarget === "current" && !sessionKey) sessionTarget = "isolated";
  const job: CronJob = {
    id,
    name: params.name?.trim() || inferName(params),
    ...(params.displayName ? { displayName: params.displayName.trim() } : {}),
    ...(params.description !== undefined ? { description: params.description } : {}),
    ...(params.agentId ? { agentId: params.agentId.trim().toLowerCase() } : {}),
    ...(sessionKey ? { sessionKey } : {}),
    enabled: params.enabled ?? true,
    createdAtMs: now,
    updatedAtMs: now,
    schedule: withDefaultStagger(normalizeSchedule(params.schedule)),
    sessionTarget,
    wakeMode: params.wakeMode ?? "now",
    payload: params.payload,
    ...(params.delivery ? { delivery: params.delivery } : {}),
    ...(params.failureAlert === false ? { failureAlert: false as const } : {}),
    state: {},
  };
  const deleteAfterRun = params.deleteAfterRun ?? (job.schedule.kind === "at" ? true : undefined);
  return deleteAfterRun === undefined ? job : { ...job, deleteAfterRun };
}

/**
 * `job` with `patch` applied: fields given replace the job's, `null` clears, a payload of the same kind
 * merges. Throws when a payload of another kind is not whole.
 */
export function patchJob(job: CronJob, patch: CronPatch, now: number): CronJob {
  const next: CronJob = { ...job, updatedAtMs: now };
  const { payload, schedule, displayName, agentId, sessionKey, failureAlert, ...plain } = patch;
  Object.assign(next, plain);
  if (schedule) next.schedule = withDefaultStagger(normalizeSchedule(schedule));
  if (payload) {
    const merged: Record<string, unknown> = payload.kind === job.payload.kind
      ? { ...job.payload, ...payload }
      : payload;
    for (const key of Object.keys(merged)) if (merged[key] === null) delete merged[key];
    const parsed = CronPayloadSchema.safeParse(merged);
    if (!parsed.success) throw new Error(`patch.payload does not make a whole ${payload.kind} payload`);
    next.payload = parsed.data;
  }
  setOrClear(next, "displayName", displayName === null ? null : displayName?.trim());
  setOrClear(next, "agentId", agentId === null ? null : agentId?.trim().toLowerCase());
  setOrClear(next, "sessionKey", sessionKey);
  setOrClear(next, "failureAlert", failureAlert);
  return next;
}

function setOrClear<K extends "displayName" | "agentId" | "sessionKey" | "failureAlert">(
  job: CronJob,
  key: K,
  value: CronJob[K] | null | undefined,
): void {
  if (value === null) delete job[key];
  else if (value !== undefined) job[key] = value;
}

/**
 * Throws when this gateway cannot run `job` as it is written: an unusable schedule, a session target that
 * does not fit the payload, or a feature the reference has and this gateway does not (delivery to a
 * channel or webhook, a tool allowlist, a system event that waits for the heartbeat).
 */
export function checkJob(job: CronJob, now: number): void {
  checkSchedule(job.schedule, now);
  const isolatedLike = job.sessionTarget !== "main";
  if (!isolatedLike && job.payload.kind !== "systemEvent") {
    throw new Error('main cron jobs require payload.kind="systemEvent"');
  }
  if (isolatedLike && job.payload.kind !== "agentTurn") {
    throw new Error('isolated cron jobs require payload.kind="agentTurn"');
  }
  if (job.sessionTarget === "current" && !job.sessionKey) {
    throw new Error('sessionTarget "current" needs the sessionKey of the conversation it belongs to');
  }
  if (job.sessionTarget === "current" || job.sessionTarget.startsWith("session:")) {
    // Throws the session key gate's own message (control characters, `..` segments, length).
    canonicalSessionKey(
      job.sessionTarget === "current" ? job.sessionKey ?? "" : job.sessionTarget.slice(8),
      "main",
    );
  }
  if (job.payload.kind === "systemEvent" && job.wakeMode === "next-heartbeat") {
    throw new Error(
      'wakeMode "next-heartbeat" waits for a heartbeat runner, which this gateway lacks; use "now"',
    );
  }
  if (job.delivery && job.delivery.mode !== "none") {
    throw new Error(`delivery mode "${job.delivery.mode}" is not supported by this gateway; use "none"`);
  }
  const tools = job.payload.toolsAllow;
  if (tools && !tools.includes("*")) {
    throw new Error(
      'payload.toolsAllow is not supported by this gateway (runs get the agent\'s tools); omit it or use ["*"]',
    );
  }
}

/** The reference's checks of a schedule when it is saved, with its wording for `at` times. */
function checkSchedule(schedule: CronSchedule, now: number): void {
  if (schedule.kind === "cron") {
    if (schedule.tz !== undefined) checkTimeZone(schedule.tz);
    checkCronSchedule(schedule, now);
  } else if (schedule.kind === "at") {
    const at = parseAtMs(schedule.at);
    if (Number.isNaN(at)) {
      throw new Error(`Invalid schedule.at: expected ISO-8601 timestamp (got ${schedule.at})`);
    }
    if (at - now < -ONE_MINUTE_MS) {
      const ago = Math.floor((now - at) / ONE_MINUTE_MS);
      throw new Error(
        `schedule.at is in the past: ${new Date(at).toISOString()} (${ago} minutes ago). Current time: ${
          new Date(now).toISOString()
        }`,
      );
    }
    if (at - now > TEN_YEARS_MS) {
      throw new Error(
        `schedule.at is too far in the future: ${new Date(at).toISOString()}. Maximum allowed: 10 years`,
      );
    }
  }
}

/** `at` stored as ISO-8601 in UTC, as the reference stores it; other kinds as given. */
function normalizeSchedule(schedule: CronSchedule): CronSchedule {
  if (schedule.kind !== "at") return schedule;
  const at = parseAtMs(schedule.at);
  return Number.isNaN(at) ? schedule : { kind: "at", at: new Date(at).toISOString() };
}

function withDefaultStagger(schedule: CronSchedule): CronSchedule {
  if (schedule.kind !== "cron" || schedule.staggerMs !== undefined || !isRecurringTopOfHour(schedule.expr)) {
    return schedule;
  }
  return { ...schedule, staggerMs: DEFAULT_TOP_OF_HOUR_STAGGER_MS };
}

/** The reference's name for a job without one: the payload's first line, else the schedule. */
function inferName(params: CronAddParams): string {
  const text = params.payload.kind === "agentTurn" ? params.payload.message : params.payload.text;
  const line = text.split("\n").map((l) => l.trim()).find(Boolean);
  if (line) return line.length > 60 ? `${line.slice(0, 59)}…` : line;
  const schedule = params.schedule;
  if (schedule.kind === "cron") return `Cron: ${schedule.expr.slice(0, 52)}`;
  if (schedule.kind === "every") return `Every: ${schedule.everyMs}ms`;
  return "One-shot";
}
