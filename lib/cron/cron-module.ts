/**
 * The cron module: the `cron.*` methods and the `cron` event, and the scheduler, which runs on one replica
 * of the cluster at a time (`context.runSingleton("cron")`). Jobs and run history live in the gateway's
 * `stores.docs` (in process by default; under the state dir with the JSONL stores, shared on Redis). Each run is an agent turn through
 * the agents runtime (`AGENT_RUNTIME`), so the agents module must be installed for runs to succeed.
 * The methods and the scheduler are imported (`cron-runtime.ts`) on the first `cron.*` call or once there
 * is a job to schedule, so a gateway without jobs keeps none of cron's code or schemas in memory.
 *
 * @module
 */
import * as z from "zod";
import { AGENT_RUNTIME } from "../agents/service.ts";
import type { AgentRuntime } from "../agents/runtime.ts";
import type { GatewayConfig } from "../config/schema.ts";
import { lazyMethods } from "../methods/lazy.ts";
import { once } from "../once.ts";
import type { JsonDocs } from "../state/json-docs.ts";
import type { GatewayContext, GatewayModule } from "../types.ts";
import type { CronRuntime } from "./cron-runtime.ts";
import { holdsJobs, JOBS_DOC, JOBS_POLL_MS } from "./docs.ts";

/** Options of {@link cronModule}. */
export interface CronModuleOptions {
  /** How long missed jobs wait after the scheduler takes over; 2 minutes, as the reference. */
  catchUpDelayMs?: number;
  /**
   * How often the cron lease holder re-reads the jobs while it has none to schedule, in case the `cron`
   * event of a job added on another replica was lost (the bus delivers at most once); a minute by default.
   */
  jobsPollMs?: number;
}

/** The `cron` section of `openclaw.json`, as far as this gateway reads it; other keys are kept as they are. */
const CronSectionSchema = z.looseObject({
  /** `false` stops scheduled runs (jobs can still be managed and run with `cron.run`). */
  enabled: z.boolean().optional(),
  /** `true`: recurring jobs skip slots missed while no gateway ran them instead of running once. */
  skipMissedJobs: z.boolean().optional(),
});

/**
 * The scheduler's settings from the config and the environment (`OPENCLAW_SKIP_CRON=1` turns it off).
 *
 * @example
 * ```ts
 * import { cronSettings } from "@openclaw-ts/gateway";
 *
 * if (!cronSettings({}, {}).enabled) throw new Error("on by default");
 * if (cronSettings({}, { OPENCLAW_SKIP_CRON: "1" }).enabled) throw new Error("the env turns it off");
 * ```
 */
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
      const docs = context.stores.docs;
      let runtime: AgentRuntime | undefined;
      context.whenProvided(AGENT_RUNTIME, (provided) => (runtime = provided));
      const load = once((): Promise<CronRuntime> =>
        import("./cron-runtime.ts").then(({ startCron }) =>
          startCron(context, {
            docs,
            catchUpDelayMs: options.catchUpDelayMs,
            runtime: () => runtime,
            settings: () => cronSettings(context.config(), context.env),
          })
        )
      );
      context.declareEvents(["cron"]);
      for (const method of lazyMethods(CRON_METHODS, async () => (await load()).methods)) {
        context.registerMethod(method);
      }
      // Runs `cron.run` started here are recorded before the gateway lets go of its stores.
      context.onStop(() => load.started?.then((cron) => cron.settled()));
      context.runSingleton("cron", async (signal) => {
        await untilJobs(context, docs, signal, options.jobsPollMs ?? JOBS_POLL_MS);
        if (!signal.aborted) await (await load()).schedule(signal);
      });
    },
  };
}

/** The `cron.*` methods and their scopes, known before the rest of cron loads. */
export const CRON_METHODS = {
  "cron.status": "operator.read",
  "cron.list": "operator.read",
  "cron.get": "operator.read",
  "cron.runs": "operator.read",
  "cron.add": "operator.admin",
  "cron.update": "operator.admin",
  "cron.remove": "operator.admin",
  "cron.run": "operator.admin",
} as const;

/**
 * Resolves once there is a job to schedule: one is stored (read at once and every `pollMs`, as a `cron`
 * event can be lost), or a `cron` event (a job added or changed on any replica) says one may be; or when
 * `signal` aborts. The scheduler reads every job when it starts, so the event that woke this wait is not lost.
 */
function untilJobs(
  context: GatewayContext,
  docs: JsonDocs,
  signal: AbortSignal,
  pollMs: number,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      unsubscribe();
      clearInterval(poll);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const look = () =>
      docs.read(JOBS_DOC).then((doc) => holdsJobs(doc) && done(), (error) => {
        context.logger.warn("cron: could not read the jobs; the scheduler starts anyway", {
          error: String(error),
        });
        done();
      });
    // Subscribed before the read, so a job added in between still wakes it.
    const unsubscribe = context.bus.subscribe((event) => {
      if (event.event === "cron") done();
    });
    const poll = setInterval(look, pollMs);
    signal.addEventListener("abort", done, { once: true });
    look();
  });
}
