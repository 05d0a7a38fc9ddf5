/**
 * The part of cron that the module imports only once cron is needed (a `cron.*` call, or a job to
 * schedule): the service over the store, the methods, and the scheduler. Everything here builds zod
 * schemas and keeps state, which a gateway without jobs never pays for.
 *
 * @module
 */
import type { AgentRuntime } from "../agents/runtime.ts";
import type { JsonDocs } from "../state/json-docs.ts";
import type { AnyMethod } from "../methods/descriptor.ts";
import type { GatewayContext } from "../types.ts";
import { type CronEvent, CronService } from "./cron-service.ts";
import { cronMethods } from "./methods.ts";
import { DEFAULT_CATCH_UP_DELAY_MS, runScheduler } from "./scheduler.ts";
import { CronStore } from "./store.ts";

/** What the module hands over when cron loads. */
export interface CronRuntimeOptions {
  docs: JsonDocs;
  /** How long missed jobs wait after the scheduler takes over; the scheduler's default when absent. */
  catchUpDelayMs?: number;
  /** The agents runtime, once one is provided. */
  runtime: () => AgentRuntime | undefined;
  /** `cron.enabled` and `cron.skipMissedJobs` as they are now. */
  settings: () => { enabled: boolean; skipMissedJobs: boolean };
}

/** Loaded cron: its methods, the scheduler loop, and a wait for the runs this process started. */
export interface CronRuntime {
  methods: readonly AnyMethod[];
  /** Runs the scheduler until `signal` aborts (under the cluster's cron lease). */
  schedule(signal: AbortSignal): Promise<void>;
  /** Resolves once every run started here is recorded. */
  settled(): Promise<void>;
}

/** Builds cron over the module's context. */
export function startCron(context: GatewayContext, options: CronRuntimeOptions): CronRuntime {
  const logger = context.logger.child("cron");
  const store = new CronStore(options.docs, logger);
  const now = () => context.now();
  const publish = (event: CronEvent) =>
    context.bus.publish({ event: "cron", payload: event, scope: "operator.read", dropIfSlow: true });
  const service = new CronService({
    store,
    now,
    newId: () => crypto.randomUUID(),
    logger,
    runtime: options.runtime,
    publish,
  });
  const methods = cronMethods({
    service,
    now,
    newId: () => crypto.randomUUID(),
    defaultAgentId: () => options.runtime()?.agents().defaultAgentId ?? "main",
    enabled: () => options.settings().enabled,
    processInstanceId: crypto.randomUUID(),
  });
  return {
    methods,
    settled: () => service.settled(),
    schedule: (signal) =>
      runScheduler({
        service,
        now,
        logger,
        enabled: () => options.settings().enabled,
        skipMissedJobs: () => options.settings().skipMissedJobs,
        catchUpDelayMs: options.catchUpDelayMs ?? DEFAULT_CATCH_UP_DELAY_MS,
        // Any replica's change to a job (a `cron` event on the shared bus), or `cron.enabled` turned on
        // or off, may move the next wake.
        onChange: (listener) => {
          const stopEvents = context.bus.subscribe((event) => {
            if (event.event === "cron" && (event.payload as CronEvent).action !== "started") listener();
          });
          const stopConfig = context.onConfigChange(() => listener());
          return () => {
            stopEvents();
            stopConfig();
          };
        },
      }, signal),
  };
}
