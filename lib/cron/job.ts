/**
 * A cron job in the reference's shape (protocol.schema.json `CronJob`), and the params of the methods that
 * create and change one. The schedule kinds are the reference's time schedules (`at`, `every`, `cron`); the
 * payload is an agent turn (`agentTurn`) or a system event for the main session (`systemEvent`). The
 * reference's event-driven kinds (`on-exit`, `stream`) and its command and script payloads run processes on
 * the host, which this gateway does not do, so the schemas leave them out and a request naming them is
 * refused with the schema's wording.
 *
 * @module
 */
import * as z from "zod";

/** The largest timestamp a `Date` can hold, the schema's bound on every ms field. */
const MAX_TIMESTAMP_MS = 8_640_000_000_000_000;
const timestamp = z.number().int().min(0).max(MAX_TIMESTAMP_MS);
const label = z.string().min(1).max(200).regex(/\S/);

/** When a job fires: once `at` a time, `every` interval, or on a `cron` expression (in `tz`). */
export const CronScheduleSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("at"), at: z.string().min(1) }),
  z.strictObject({
    kind: z.literal("every"),
    everyMs: z.number().int().min(1).max(MAX_TIMESTAMP_MS),
    anchorMs: timestamp.optional(),
  }),
  z.strictObject({
    kind: z.literal("cron"),
    expr: z.string().min(1),
    tz: z.string().optional(),
    staggerMs: timestamp.optional(),
  }),
]);
/** A job's schedule. */
export type CronSchedule = z.infer<typeof CronScheduleSchema>;

const toolsAllow = {
  toolsAllow: z.array(z.string()).optional(),
  toolsAllowIsDefault: z.boolean().optional(),
};

/** What a job runs: an agent turn with `message`, or a system event `text` for the main session. */
export const CronPayloadSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("agentTurn"),
    message: z.string().min(1),
    model: z.string().optional(),
    fallbacks: z.array(z.string()).optional(),
    thinking: z.string().optional(),
    timeoutSeconds: z.number().min(0).optional(),
    allowUnsafeExternalContent: z.boolean().optional(),
    lightContext: z.boolean().optional(),
    ...toolsAllow,
  }),
  z.strictObject({ kind: z.literal("systemEvent"), text: z.string().min(1), ...toolsAllow }),
]);
/** A job's payload. */
export type CronPayload = z.infer<typeof CronPayloadSchema>;

/** Where a run's output goes. Only `none` is honoured here; the others are refused when a job is saved. */
export const CronDeliverySchema = z.strictObject({
  mode: z.enum(["none", "announce", "webhook"]),
  channel: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  threadId: z.union([z.string(), z.number()]).optional(),
  accountId: z.string().min(1).optional(),
  bestEffort: z.boolean().optional(),
  failureDestination: z.looseObject({}).optional(),
  completionDestination: z.looseObject({}).optional(),
});
/** A job's delivery settings. */
export type CronDelivery = z.infer<typeof CronDeliverySchema>;

/** `main`, `isolated` (a fresh `cron:<jobId>` session per run), `current`, or `session:<key>`. */
export const SessionTargetSchema = z.union([
  z.enum(["main", "isolated", "current"]),
  z.string().regex(/^session:.+/),
]);

/** The outcome of a run as the reference names it. */
export const RunStatusSchema = z.enum(["ok", "error", "skipped"]);
/** `ok`, `error` or `skipped`. */
export type RunStatus = z.infer<typeof RunStatusSchema>;

const deliveryStatus = z.enum(["delivered", "not-delivered", "unknown", "not-requested"]);

/** What the scheduler keeps about a job between runs. */
export const CronJobStateSchema = z.object({
  nextRunAtMs: timestamp.optional(),
  runningAtMs: timestamp.optional(),
  lastRunAtMs: timestamp.optional(),
  lastRunStatus: RunStatusSchema.optional(),
  lastStatus: RunStatusSchema.optional(),
  lastError: z.string().optional(),
  lastDurationMs: z.number().int().min(0).optional(),
  consecutiveErrors: z.number().int().min(0).optional(),
  lastDeliveryStatus: deliveryStatus.optional(),
});
/** A job's scheduler state. */
export type CronJobState = z.infer<typeof CronJobStateSchema>;

/** A stored job, as `cron.list`, `cron.get` and the `cron` event show it. */
export const CronJobSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  displayName: label.optional(),
  description: z.string().optional(),
  agentId: z.string().min(1).optional(),
  sessionKey: z.string().min(1).optional(),
  enabled: z.boolean(),
  deleteAfterRun: z.boolean().optional(),
  createdAtMs: timestamp,
  updatedAtMs: timestamp,
  schedule: CronScheduleSchema,
  sessionTarget: SessionTargetSchema,
  wakeMode: z.enum(["next-heartbeat", "now"]),
  payload: CronPayloadSchema,
  delivery: CronDeliverySchema.optional(),
  failureAlert: z.literal(false).optional(),
  state: CronJobStateSchema,
});
/** A stored job. */
export type CronJob = z.infer<typeof CronJobSchema>;

const optionalId = { id: z.string().min(1).optional(), jobId: z.string().min(1).optional() };

/** `cron.add`: the job to create; omitted fields get the reference's defaults. */
export const CronAddParamsSchema = z.strictObject({
  name: z.string().optional(),
  displayName: label.optional(),
  description: z.string().optional(),
  agentId: z.string().min(1).nullable().optional(),
  sessionKey: z.string().min(1).nullable().optional(),
  enabled: z.boolean().optional(),
  deleteAfterRun: z.boolean().optional(),
  schedule: CronScheduleSchema,
  sessionTarget: SessionTargetSchema.optional(),
  wakeMode: z.enum(["next-heartbeat", "now"]).optional(),
  payload: CronPayloadSchema,
  delivery: CronDeliverySchema.optional(),
  failureAlert: z.literal(false).optional(),
});
/** `cron.add` params. */
export type CronAddParams = z.infer<typeof CronAddParamsSchema>;

const clearableTools = {
  toolsAllow: z.array(z.string()).nullable().optional(),
  toolsAllowIsDefault: z.boolean().optional(),
};

/**
 * A partial payload: fields given replace those of a payload of the same kind, `null` clears one (the
 * Control UI sends `model: null` and the like for a field its form left empty).
 */
const PayloadPatchSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("agentTurn"),
    message: z.string().min(1).optional(),
    model: z.string().nullable().optional(),
    fallbacks: z.array(z.string()).nullable().optional(),
    thinking: z.string().nullable().optional(),
    timeoutSeconds: z.number().min(0).nullable().optional(),
    allowUnsafeExternalContent: z.boolean().optional(),
    lightContext: z.boolean().optional(),
    ...clearableTools,
  }),
  z.strictObject({ kind: z.literal("systemEvent"), text: z.string().min(1).optional(), ...clearableTools }),
]);

/** The fields `cron.update` may change; `null` clears a nullable one. */
export const CronPatchSchema = z.strictObject({
  name: z.string().min(1).optional(),
  displayName: label.nullable().optional(),
  description: z.string().optional(),
  agentId: z.string().min(1).nullable().optional(),
  sessionKey: z.string().min(1).nullable().optional(),
  enabled: z.boolean().optional(),
  deleteAfterRun: z.boolean().optional(),
  schedule: CronScheduleSchema.optional(),
  sessionTarget: SessionTargetSchema.optional(),
  wakeMode: z.enum(["next-heartbeat", "now"]).optional(),
  payload: PayloadPatchSchema.optional(),
  delivery: CronDeliverySchema.optional(),
  failureAlert: z.literal(false).nullable().optional(),
});
/** A `cron.update` patch. */
export type CronPatch = z.infer<typeof CronPatchSchema>;

/** `cron.update`: the job (`id` or `jobId`) and its patch. */
export const CronUpdateParamsSchema = z.strictObject({
  ...optionalId,
  patch: CronPatchSchema,
  expectedConfigRevision: z.string().min(1).max(128).optional(),
});

/** `cron.get` and `cron.remove`: the job, by `id` or `jobId`. */
export const CronJobRefSchema = z.strictObject(optionalId);

/** `cron.run`: the job and when to run it (`force`, the default, runs it now whatever its schedule). */
export const CronRunParamsSchema = z.strictObject({
  ...optionalId,
  mode: z.enum(["due", "force", "if-enabled"]).optional(),
  expectedProcessInstanceId: z.string().min(1).optional(),
});

const page = {
  limit: z.number().int().min(1).max(200).optional(),
  offset: z.number().int().min(0).optional(),
};

/** `cron.list`: filters, sort and page. */
export const CronListParamsSchema = z.strictObject({
  includeDisabled: z.boolean().optional(),
  ...page,
  query: z.string().optional(),
  enabled: z.enum(["all", "enabled", "disabled"]).optional(),
  scheduleKind: z.enum(["all", "at", "every", "cron", "on-exit", "stream"]).optional(),
  lastRunStatus: z.enum(["all", "ok", "error", "skipped", "unknown"]).optional(),
  trigger: z.enum(["all", "conditional", "unconditional"]).optional(),
  sortBy: z.enum(["nextRunAtMs", "updatedAtMs", "name"]).optional(),
  sortDir: z.enum(["asc", "desc"]).optional(),
  agentId: z.string().min(1).optional(),
  compact: z.boolean().optional(),
  includeDeliveryPreviews: z.boolean().optional(),
});
/** `cron.list` params. */
export type CronListParams = z.infer<typeof CronListParamsSchema>;

const safeJobId = z.string().min(1).regex(/^[^/\\]+$/);

/** `cron.runs`: one job's history or all of it, filtered and paged. */
export const CronRunsParamsSchema = z.strictObject({
  agentId: z.string().min(1).optional(),
  scope: z.enum(["job", "all"]).optional(),
  id: safeJobId.optional(),
  jobId: safeJobId.optional(),
  runId: z.string().min(1).optional(),
  ...page,
  statuses: z.array(RunStatusSchema).max(3).optional(),
  status: z.enum(["all", "ok", "error", "skipped"]).optional(),
  deliveryStatuses: z.array(deliveryStatus).max(4).optional(),
  deliveryStatus: deliveryStatus.optional(),
  query: z.string().optional(),
  sortDir: z.enum(["asc", "desc"]).optional(),
});
/** `cron.runs` params. */
export type CronRunsParams = z.infer<typeof CronRunsParamsSchema>;

/** One finished run in the history (protocol.schema.json `CronRunLogEntry`). */
export const CronRunLogEntrySchema = z.object({
  ts: timestamp,
  jobId: z.string().min(1),
  action: z.literal("finished"),
  status: RunStatusSchema,
  error: z.string().optional(),
  summary: z.string().optional(),
  deliveryStatus: deliveryStatus.optional(),
  sessionId: z.string().min(1).optional(),
  sessionKey: z.string().min(1).optional(),
  runId: z.string().min(1).optional(),
  runAtMs: timestamp.optional(),
  durationMs: z.number().int().min(0).optional(),
  nextRunAtMs: timestamp.optional(),
  model: z.string().optional(),
  provider: z.string().optional(),
  usage: z.object({
    input_tokens: z.number().optional(),
    output_tokens: z.number().optional(),
    total_tokens: z.number().optional(),
  }).optional(),
  jobName: z.string().optional(),
});
/** A run history entry. */
export type CronRunLogEntry = z.infer<typeof CronRunLogEntrySchema>;
