/**
 * `openclaw cron list|add|rm|run` (also spelled `openclaw automations …`, as the reference registers them):
 * manage the running gateway's jobs over the `cron.*` methods. `add` takes the schedule as the reference's
 * flags (`--every 10m`, `--cron "0 7 * * *" --tz Europe/Vienna`, `--at 2027-02-01T16:00:00Z` or `--at 20m`)
 * or as the first positional argument, and the agent message as `--message` or the second one.
 *
 * @module
 */
import { parseDurationMs } from "../../../lib/config/duration.ts";
import { type FlagTable, type FlagValues, intFlag, stringFlag } from "../../cli/args.ts";
import { defineCommand } from "../../cli/define-command.ts";
import { CliError, EXIT } from "../../cli/errors.ts";
import type { RunnerCommand } from "../../command.ts";
import type { OpsHost } from "./host.ts";
import { callGateway } from "./rpc-commands.ts";
import { CONNECTION_FLAGS, printJson } from "./shared.ts";

/** The reference registers the commands as `cron` with `automations` as an alias. */
const SPELLINGS = ["cron", "automations"];

type Job = {
  id: string;
  name: string;
  displayName?: string;
  enabled: boolean;
  schedule: { kind: string; at?: string; everyMs?: number; expr?: string; tz?: string };
  sessionTarget: string;
  effectiveAgentId?: string;
  state: { nextRunAtMs?: number; lastRunAtMs?: number; lastRunStatus?: string; runningAtMs?: number };
};

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `10m`, `1h30m`, `500ms` in ms; undefined when `text` is not a duration. A bare number is not one here:
 * the positional schedule tells a duration from a cron expression or a time by its unit.
 */
export function parseDuration(text: string): number | undefined {
  if (/^\s*[\d.]+\s*$/.test(text)) return undefined;
  const ms = parseDurationMs(text);
  return ms === undefined ? undefined : Math.round(ms);
}

function formatDuration(ms: number): string {
  const unit = ["d", "h", "m", "s"].find((u) => ms >= UNITS[u] && ms % UNITS[u] === 0);
  return unit ? `${ms / UNITS[unit]}${unit}` : `${ms}ms`;
}

/** The schedule `add` asks for, from exactly one of the schedule flags or the positional schedule. */
export function scheduleFrom(
  flags: FlagValues,
  positional: string | undefined,
  now: number,
): Record<string, unknown> {
  const [at, every, cron] = ["at", "every", "cron"].map((name) => stringFlag(flags, name));
  const chosen = [at, every, cron, positional].filter((value) => value !== undefined);
  if (chosen.length !== 1) {
    throw new CliError(
      "Choose one schedule: a positional schedule or one of --at, --every, --cron.",
      EXIT.usage,
    );
  }
  const tz = stringFlag(flags, "tz");
  if (tz !== undefined && cron === undefined && (positional === undefined || parseDuration(positional))) {
    throw new CliError("--tz applies to cron schedules only", EXIT.usage);
  }
  if (cron !== undefined || (positional !== undefined && positional.trim().split(/\s+/).length >= 5)) {
    return { kind: "cron", expr: (cron ?? positional)!.trim(), ...(tz ? { tz } : {}) };
  }
  const everyMs = every !== undefined
    ? parseDuration(every)
    : positional
    ? parseDuration(positional)
    : undefined;
  if (every !== undefined || everyMs !== undefined) {
    if (!everyMs) throw new CliError(`--every needs a duration such as 10m or 1h (got ${every})`, EXIT.usage);
    return { kind: "every", everyMs };
  }
  const when = (at ?? positional)!.trim();
  const relative = parseDuration(when);
  return { kind: "at", at: relative === undefined ? when : new Date(now + relative).toISOString() };
}

/** The `cron.add` params for `openclaw cron add`. */
export function addParams(flags: FlagValues, positionals: string[], now: number): Record<string, unknown> {
  const hasScheduleFlag = ["at", "every", "cron"].some((name) => stringFlag(flags, name) !== undefined);
  const schedule = scheduleFrom(flags, hasScheduleFlag ? undefined : positionals[0], now);
  const name = stringFlag(flags, "name")?.trim() || (hasScheduleFlag ? positionals[0]?.trim() : undefined);
  if (!name) throw new CliError("Cron job name is required. Pass a name or --name <name>.", EXIT.usage);
  const message = stringFlag(flags, "message") ?? (hasScheduleFlag ? undefined : positionals[1]);
  const systemEvent = stringFlag(flags, "system-event");
  if (!message === !systemEvent) {
    throw new CliError("Choose exactly one payload: --system-event or --message", EXIT.usage);
  }
  const timeoutSeconds = intFlag(flags, "timeout-seconds", 0, 2 ** 31);
  const payload = systemEvent ? { kind: "systemEvent", text: systemEvent } : {
    kind: "agentTurn",
    message,
    ...(stringFlag(flags, "model") ? { model: stringFlag(flags, "model") } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
  };
  const agentId = stringFlag(flags, "agent")?.trim();
  return {
    name,
    ...(stringFlag(flags, "description") ? { description: stringFlag(flags, "description") } : {}),
    enabled: flags.disabled !== true,
    ...(flags["delete-after-run"]
      ? { deleteAfterRun: true }
      : flags["keep-after-run"]
      ? { deleteAfterRun: false }
      : {}),
    ...(agentId ? { agentId } : {}),
    ...(stringFlag(flags, "session-key") ? { sessionKey: stringFlag(flags, "session-key") } : {}),
    schedule,
    sessionTarget: stringFlag(flags, "session") ?? (systemEvent ? "main" : "isolated"),
    wakeMode: stringFlag(flags, "wake") ?? "now",
    payload,
  };
}

function relative(ms: number | undefined, now: number): string {
  if (!ms) return "-";
  const delta = ms - now;
  const span = Math.abs(delta) < 60_000
    ? "<1m"
    : formatDuration(Math.round(Math.abs(delta) / 60_000) * 60_000);
  return delta >= 0 ? `in ${span}` : `${span} ago`;
}

function scheduleLabel(schedule: Job["schedule"]): string {
  if (schedule.kind === "at") return `at ${schedule.at?.slice(0, 16).replace("T", " ")}Z`;
  if (schedule.kind === "every") return `every ${formatDuration(schedule.everyMs ?? 0)}`;
  return schedule.tz ? `cron ${schedule.expr} @ ${schedule.tz}` : `cron ${schedule.expr}`;
}

/** The job table `cron list` prints, in the reference's columns (those this gateway has). */
export function jobTable(jobs: Job[], now: number): string {
  if (!jobs.length) return "No automations.";
  const cell = (text: string, width: number) =>
    text.length > width ? `${text.slice(0, width - 3)}...` : text.padEnd(width);
  const widths = [36, 24, 32, 10, 10, 10, 9, 10];
  const row = (cells: string[]) => cells.map((text, i) => cell(text, widths[i])).join(" ").trimEnd();
  const status = (job: Job) =>
    job.state.runningAtMs ? "running" : !job.enabled ? "disabled" : job.state.lastRunStatus ?? "idle";
  return [
    row(["ID", "Name", "Schedule", "Next", "Last", "Status", "Target", "Agent ID"]),
    ...jobs.map((job) =>
      row([
        job.id,
        job.displayName ?? job.name,
        scheduleLabel(job.schedule),
        job.enabled ? relative(job.state.nextRunAtMs, now) : "-",
        relative(job.state.lastRunAtMs, now),
        status(job),
        job.sessionTarget,
        job.effectiveAgentId ?? "-",
      ])
    ),
  ].join("\n");
}

const ADD_FLAGS: FlagTable = {
  name: { type: "string", valueName: "<name>", description: "Job name" },
  description: { type: "string", valueName: "<text>", description: "Job description" },
  agent: { type: "string", valueName: "<id>", description: "Agent id for this job" },
  session: {
    type: "string",
    valueName: "<target>",
    description: "Session target (main|isolated|current|session:<id>)",
  },
  "session-key": { type: "string", valueName: "<key>", description: "Session key for job routing" },
  wake: { type: "string", valueName: "<mode>", description: "Wake mode (now)" },
  at: {
    type: "string",
    valueName: "<when>",
    description: "One-shot time (ISO; no zone is UTC) or duration like 20m",
  },
  every: { type: "string", valueName: "<duration>", description: "Interval duration (e.g. 10m, 1h)" },
  cron: {
    type: "string",
    valueName: "<expr>",
    description: "Cron expression (5-field or 6-field with seconds)",
  },
  tz: {
    type: "string",
    valueName: "<iana>",
    description: "Timezone for cron expressions (default: the gateway host's)",
  },
  message: { type: "string", valueName: "<text>", description: "Agent message payload" },
  "system-event": { type: "string", valueName: "<text>", description: "System event payload (main session)" },
  model: {
    type: "string",
    valueName: "<model>",
    description: "Model override for agent jobs (provider/model)",
  },
  "timeout-seconds": { type: "string", valueName: "<n>", description: "Timeout seconds for agent jobs" },
  disabled: { type: "boolean", description: "Create job disabled" },
  "delete-after-run": { type: "boolean", description: "Delete a one-shot after it succeeds (the default)" },
  "keep-after-run": { type: "boolean", description: "Keep a one-shot job after it succeeds" },
};

function listCommand(host: OpsHost, spelling: string): RunnerCommand {
  return defineCommand({
    path: [spelling, "list"],
    summary: "List automations",
    flags: {
      ...CONNECTION_FLAGS,
      all: { type: "boolean", description: "Include disabled jobs" },
      agent: { type: "string", valueName: "<id>", description: "Filter by agent id" },
    },
    async run({ flags }, ctx) {
      const agentId = stringFlag(flags, "agent")?.trim();
      const params = { includeDisabled: flags.all === true, ...(agentId ? { agentId } : {}) };
      const json = flags.json === true;
      const result = await callGateway<{ jobs: Job[] }>(host, ctx, flags, "cron.list", params);
      if (json) printJson(ctx, result);
      else ctx.output.out(jobTable(result.jobs, Date.now()));
      return EXIT.ok;
    },
  });
}

function addCommand(host: OpsHost, spelling: string, verb: string): RunnerCommand {
  return defineCommand({
    path: [spelling, verb],
    summary: "Add an automation",
    usage: "[scheduleOrName] [message]",
    flags: { ...CONNECTION_FLAGS, ...ADD_FLAGS },
    async run({ flags, positionals }, ctx) {
      const params = addParams(flags, positionals, Date.now());
      const json = flags.json === true;
      const result = await callGateway<Job>(host, ctx, flags, "cron.add", params);
      if (json) printJson(ctx, result);
      else {ctx.output.out(
          `Added ${result.id} (${scheduleLabel(result.schedule)}, next ${
            relative(result.state.nextRunAtMs, Date.now())
          })`,
        );}
      return EXIT.ok;
    },
  });
}

function idCommand(
  host: OpsHost,
  path: string[],
  summary: string,
  extra: FlagTable,
  method: string,
): RunnerCommand {
  return defineCommand({
    path,
    summary,
    usage: "<id>",
    flags: { ...CONNECTION_FLAGS, ...extra },
    async run({ flags, positionals }, ctx) {
      const id = positionals[0]?.trim();
      if (!id) throw new CliError(`openclaw ${path.join(" ")} needs a job id`, EXIT.usage);
      const params = method === "cron.run" ? { id, mode: flags.due === true ? "due" : "force" } : { id };
      const json = flags.json === true;
      const result = await callGateway<Record<string, unknown>>(host, ctx, flags, method, params);
      if (json) printJson(ctx, result);
      else if (method === "cron.remove") ctx.output.out(`Removed ${id}`);
      else {ctx.output.out(
          result.enqueued ? `Started ${id} (run ${result.runId})` : `Not run: ${result.reason}`,
        );}
      return EXIT.ok;
    },
  });
}

/** Every `cron` / `automations` command. */
export function cronCommands(host: OpsHost): RunnerCommand[] {
  return SPELLINGS.flatMap((spelling) => [
    listCommand(host, spelling),
    addCommand(host, spelling, "add"),
    addCommand(host, spelling, "create"),
    idCommand(host, [spelling, "rm"], "Remove an automation", {}, "cron.remove"),
    idCommand(host, [spelling, "run"], "Run an automation now", {
      due: { type: "boolean", description: "Run only when due" },
    }, "cron.run"),
  ]);
}
