/**
 * The cron module: the `cron.*` methods and the `cron` event, and the scheduler, which runs on one replica
 * of the cluster at a time (`context.runSingleton("cron")`). Jobs and run history live in `JsonDocs`
 * (in process by default; the runner keeps them under the state dir). Each run is an agent turn through
 * the agents runtime (`AGENT_RUNTIME`), so the agents module must be installed for runs to succeed.
 *
 * @module
 */
import { z } from "zod";
import { AGENT_RUNTIME } from "../agents/service.ts";
import type { AgentRuntime } from "../agents/runtime.ts";
import type { GatewayConfig } from "../config/schema.ts";
import { type JsonDocs, MemoryJsonDocs } from "../state/json-docs.ts";
import type { GatewayModule } from "../types.ts";
import { type CronEvent, CronService } from "./cron-service.ts";
import { cronMethods } from "./methods.ts";
import { DEFAULT_CATCH_UP_DELAY_MS, runScheduler } from "./scheduler.ts";
import { CronStore } from "./store.ts";

/** Options of {@link cronModule}. */
export interface CronModuleOptions {
  /**
   * Where jobs (`cron/jobs.json`) and run history (`cron/runs.json`) are kept; in process by default.
   * Replicas of one gateway must share it.
   */
  docs?: JsonDocs;
  /** How long missed jobs wait after the scheduler takes over; 2 minutes, as the reference. */
  catchUpDelayMs?: number;
}

/** The `cron` section of `openclaw.json`, as far as this gateway reads it; other keys are kept as they are. */
const CronSectionSchema = z.looseObject({
  /** `false` stops scheduled runs (jobs can still be managed and run with `cron.run`). */
  enabled: z.boolean().optional(),
  /** `true`: recurring jobs skip slots missed while no gateway ran them instead of running once. */
  skipMissedJobs: z.boolean().optional(),
});

/** The scheduler's settings from the config and the environment (`OPENCLAW_SKIP_CRON=1` turns it off). */
export function cronSettings(
  config: GatewayConfig,
  env: Readonly<Record<string, string | undefined>>,
): { enabled: boolean; skipMissedJobs: boolean } {
  const parsed = CronSectionSchema.safeParse(config.cron ?? {});
  const section = parsed.success ? parsed.data : {};
  return {
    enabled: section.enabled !== false && env.OPENCLAW_SKIP_CRON !== "1",
    skipMissedJobs: section.skipMissedJobs === true,
  };
}

/**
 * Scheduled agent turns: the reference's Automations.
 *
 * @example Add a job that runs every hour, and run it once now
 * ```ts
 * import { agentsModule, createGateway, cronModule } from "@openclaw-ts/gateway";
 *
 * const gateway = createGateway({
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [agentsModule(), cronModule()],
 * });
 * await gateway.start();
 * const job = await gateway.call("cron.add", {
 *   name: "Hourly check",
 *   schedule: { kind: "every", everyMs: 3_600_000 },
 *   payload: { kind: "agentTurn", message: "Anything new?" },
 * }) as { id: string };
 * const run = await gateway.call("cron.run", { id: job.id }) as { runId: string };
 * await gateway.call("agent.wait", { runId: run.runId, timeoutMs: 5_000 });
 * await gateway.stop();
 * ```
 */
export function cronModule(options: CronModuleOptions = {}): GatewayModule {
  return {
    name: "cron",
    setup(context) {
      const logger = context.logger.child("cron");
      const store = new CronStore(options.docs ?? new MemoryJsonDocs(), logger);
      let runtime: AgentRuntime | undefined;
      context.whenProvided(AGENT_RUNTIME, (provided) => (runtime = provided));
      const now = () => context.now();
      const publish = (event: CronEvent) =>
        context.bus.publish({ event: "cron", payload: event, scope: "operator.read", dropIfSlow: true });
      const service = new CronService({
        store,
        now,
        newId: () => crypto.randomUUID(),
        logger,
        runtime: () => runtime,
        publish,
      });
      const settings = () => cronSettings(context.config(), context.env);
      context.declareEvents(["cron"]);
      const methods = cronMethods({
        service,
        now,
        newId: () => crypto.randomUUID(),
        defaultAgentId: () => runtime?.agents().defaultAgentId ?? "main",
        enabled: () => settings().enabled,
        processInstanceId: crypto.randomUUID(),
      });
      for (const method of methods) context.registerMethod(method);
      // Runs `cron.run` started here are recorded before the gateway lets go of its stores.
      context.onStop(() => service.settled());
      context.runSingleton("cron", (signal) =>
        runScheduler({
          service,
          now,
          logger,
          enabled: () => settings().enabled,
          skipMissedJobs: () => settings().skipMissedJobs,
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
        }, signal));
    },
  };
}
