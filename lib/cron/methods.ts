/**
 * The `cron.*` methods with the reference's names, params, result shapes, scopes and error wording:
 * `cron.status`, `cron.list`, `cron.get` and `cron.runs` read (`operator.read`); `cron.add`, `cron.update`,
 * `cron.remove` and `cron.run` change jobs or start runs (`operator.admin`).
 *
 * @module
 */
import { GatewayError, invalidParams } from "../errors.ts";
import { type AnyMethod, defineMethod } from "../methods/descriptor.ts";
import * as z from "zod";
import type { CronService } from "./cron-service.ts";
import {
  CronAddParamsSchema,
  type CronJob,
  CronJobRefSchema,
  type CronListParams,
  CronListParamsSchema,
  CronRunParamsSchema,
  type CronRunsParams,
  CronRunsParamsSchema,
  CronUpdateParamsSchema,
} from "./job.ts";
import { checkJob, createJob, patchJob } from "./job-rules.ts";
import {
  compactJobView,
  configRevision,
  jobView,
  listedJobs,
  listedRuns,
  pageOf,
  revisionOf,
} from "./views.ts";

/** What the methods need besides the service. */
export interface CronMethodsHost {
  service: CronService;
  now: () => number;
  newId: () => string;
  /** The agent a job without `agentId` belongs to. */
  defaultAgentId: () => string;
  /** Whether the scheduler runs (`cron.enabled`). */
  enabled: () => boolean;
  /** Tells apart this process's gateway from a restarted one (`cron.run`'s `processInstanceId`). */
  processInstanceId: string;
}

/** Delivery this gateway honours is `none`, so every preview says so, in the reference's words. */
const NOT_REQUESTED = { label: "not requested", detail: "not requested" };

/** The reference's answer for a job id nobody knows; `cron.get` keeps its older wording. */
function notFound(jobId: string, get = false): GatewayError {
  const head = get ? `cron job not found: ${jobId}.` : `Automation not found: ${jobId}.`;
  return new GatewayError(
    "INVALID_REQUEST",
    `${head} List automations and retry with a current job id. For cross-session management, use a fresh ` +
      "authenticated configured channel owner or Control UI administrator turn or the Automations page.",
    { details: { code: "CRON_JOB_NOT_FOUND", jobId } },
  );
}

function jobIdOf(method: string, params: { id?: string; jobId?: string }): string {
  const id = (params.id ?? params.jobId)?.trim();
  if (!id) throw invalidParams(method, "missing id");
  return id;
}

/** Builds a job and checks it, answering a refusal as the reference words it. */
function checked(method: string, build: () => CronJob, now: number): CronJob {
  try {
    const job = build();
    checkJob(job, now);
    return job;
  } catch (error) {
    throw invalidParams(method, error instanceof Error ? error.message : String(error));
  }
}

async function findJob(service: CronService, id: string): Promise<CronJob | undefined> {
  return (await service.store.jobs()).find((job) => job.id === id);
}

/** The cron methods over `host`. */
export function cronMethods(host: CronMethodsHost): AnyMethod[] {
  return [...readMethods(host), ...writeMethods(host)];
}

function readMethods(host: CronMethodsHost): AnyMethod[] {
  return [
    defineMethod({
      name: "cron.status",
      scope: "operator.read",
      params: z.strictObject({}),
      handler: () => status(host),
    }),
    defineMethod({
      name: "cron.list",
      scope: "operator.read",
      params: CronListParamsSchema,
      handler: ({ params }) => listPage(host, params),
    }),
    defineMethod({
      name: "cron.get",
      scope: "operator.read",
      params: CronJobRefSchema,
      handler: async ({ params }) => {
        const id = jobIdOf("cron.get", params);
        const job = await findJob(host.service, id);
        if (!job) throw notFound(id, true);
        return await jobView(job);
      },
    }),
    defineMethod({
      name: "cron.runs",
      scope: "operator.read",
      params: CronRunsParamsSchema,
      handler: ({ params }) => runHistory(host, params),
    }),
  ];
}

function writeMethods(host: CronMethodsHost): AnyMethod[] {
  const { service } = host;
  return [
    defineMethod({
      name: "cron.add",
      scope: "operator.admin",
      params: CronAddParamsSchema,
      handler: async ({ params }) => {
        const now = host.now();
        const job = checked("cron.add", () => createJob(params, host.newId(), now), now);
        return { ...await jobView(await service.save(job, "added")), deliveryPreview: NOT_REQUESTED };
      },
    }),
    defineMethod({
      name: "cron.update",
      scope: "operator.admin",
      params: CronUpdateParamsSchema,
      handler: ({ params }) => updateJob(host, params),
    }),
    defineMethod({
      name: "cron.remove",
      scope: "operator.admin",
      params: CronJobRefSchema,
      handler: async ({ params }) => {
        const id = jobIdOf("cron.remove", params);
        if (!await service.remove(id)) throw notFound(id);
        return { ok: true, removed: true };
      },
    }),
    defineMethod({
      name: "cron.run",
      scope: "operator.admin",
      params: CronRunParamsSchema,
      handler: ({ params }) => runNow(host, params),
    }),
  ];
}

async function status(host: CronMethodsHost) {
  const jobs = await host.service.store.jobs();
  const enabled = host.enabled();
  const times = jobs.flatMap((job) =>
    job.enabled && job.state.nextRunAtMs !== undefined ? [job.state.nextRunAtMs] : []
  );
  return {
    enabled,
    // Condition triggers, stream schedules and script payloads are not built here.
    triggersEnabled: false,
    jobs: jobs.length,
    nextWakeAtMs: enabled && times.length ? Math.min(...times) : null,
  };
}

async function listPage(host: CronMethodsHost, params: CronListParams) {
  const defaultAgentId = host.defaultAgentId();
  const sorted = listedJobs(await host.service.store.jobs(), params, defaultAgentId);
  const limit = params.limit ?? (sorted.length === 0 ? 50 : Math.min(200, sorted.length));
  const { rows, ...position } = pageOf(sorted, params.offset, limit);
  const view = async (job: CronJob) => ({
    ...(params.compact ? compactJobView(job) : await jobView(job)),
    effectiveAgentId: job.agentId ?? defaultAgentId,
  });
  const previews = params.compact || params.includeDeliveryPreviews === false
    ? {}
    : { deliveryPreviews: Object.fromEntries(rows.map((job) => [job.id, NOT_REQUESTED])) };
  return {
    jobs: await Promise.all(rows.map(view)),
    snapshotRevision: await revisionOf(sorted),
    ...position,
    ...previews,
  };
}

async function runHistory(host: CronMethodsHost, params: CronRunsParams) {
  const scope = params.scope ?? (params.id !== undefined || params.jobId !== undefined ? "job" : "all");
  const jobId = scope === "job" ? jobIdOf("cron.runs", params) : undefined;
  const jobs = await host.service.store.jobs();
  let runs = await host.service.store.runs();
  if (params.agentId) {
    const agent = params.agentId.toLowerCase();
    const ofAgent = new Set(
      jobs.filter((job) => (job.agentId ?? host.defaultAgentId()) === agent).map((j) => j.id),
    );
    runs = runs.filter((run) => ofAgent.has(run.jobId));
  }
  const names = new Map(jobs.map((job) => [job.id, job.name]));
  const named = runs.map((run) => names.has(run.jobId) ? { ...run, jobName: names.get(run.jobId) } : run);
  const { rows, ...position } = pageOf(listedRuns(named, params, jobId), params.offset, params.limit ?? 50);
  if (jobId && position.total === 0 && !names.has(jobId)) throw notFound(jobId);
  return { entries: rows, ...position };
}

async function updateJob(host: CronMethodsHost, params: z.infer<typeof CronUpdateParamsSchema>) {
  const id = jobIdOf("cron.update", params);
  const current = await findJob(host.service, id);
  if (!current) throw notFound(id);
  const actual = await configRevision(current);
  if (params.expectedConfigRevision !== undefined && params.expectedConfigRevision !== actual) {
    throw new GatewayError(
      "INVALID_REQUEST",
      "cron job definition no longer matches the loaded version; review the latest version before retrying",
      {
        details: {
          code: "CRON_JOB_CHANGED",
          expectedConfigRevision: params.expectedConfigRevision,
          actualConfigRevision: actual,
        },
      },
    );
  }
  const now = host.now();
  const job = checked("cron.update", () => patchJob(current, params.patch, now), now);
  return await jobView(await host.service.save(job, "updated"));
}

async function runNow(host: CronMethodsHost, params: z.infer<typeof CronRunParamsSchema>) {
  const id = jobIdOf("cron.run", params);
  if (params.expectedProcessInstanceId && params.expectedProcessInstanceId !== host.processInstanceId) {
    throw invalidParams("cron.run", "Gateway process changed after preflight");
  }
  if (!await findJob(host.service, id)) throw notFound(id);
  const started = await host.service.runNow(id, params.mode ?? "force").catch((error: Error) => {
    throw error.message.startsWith("unknown cron job id") ? notFound(id) : error;
  });
  const outcome = typeof started === "string"
    ? { ok: true, ran: false, reason: started }
    : { ok: true, enqueued: true, runId: started.runId };
  return { ...outcome, processInstanceId: host.processInstanceId };
}
