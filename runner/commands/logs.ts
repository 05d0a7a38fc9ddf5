/**
 * `openclaw logs`: tails the gateway log through the running gateway (`logs.tail`), falling back to the
 * profile's log file when the local gateway cannot be reached (never with `--follow` or `--url`).
 * `--follow` polls from the returned cursor and reconnects with back-off after a drop.
 *
 * @module
 */
import type { GatewayConnection } from "../../lib/client/connection.ts";
import type { LogsTailResult } from "../../lib/log/tail.ts";
import { formatPretty, readLogLine } from "../../lib/log/logger.ts";
import type { CliContext, RunnerCommand } from "../command.ts";
import { intFlag } from "../cli/args.ts";
import { defineCommand } from "../cli/define-command.ts";
import { join } from "node:path";
import { datedLogFileName } from "../log/file-sink.ts";
import { readLogTail } from "../log/file-tail.ts";
import { openConnection } from "./ops/connect.ts";
import type { OpsHost } from "./ops/host.ts";
import { CONNECTION_FLAGS, querySetup } from "./ops/shared.ts";

const MAX_RETRIES = 8;
const MAX_BACKOFF_MS = 30_000;

function printLines(ctx: CliContext, lines: string[], json: boolean, utc: boolean): void {
  for (const line of lines) {
    if (json) {
      ctx.output.out(JSON.stringify({ type: "log", line }));
      continue;
    }
    const record = readLogLine(line);
    ctx.output.out(record ? formatPretty({ ...record, time: displayTime(record.time, utc) }) : line);
  }
}

/** The record's ISO time shifted to local time (formatPretty shows the clock part). */
function displayTime(iso: string, utc: boolean): string {
  const date = new Date(iso);
  if (utc || Number.isNaN(date.getTime())) return iso;
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString();
}

/** `logs`. */
export function logsCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["logs"],
    summary: "Show gateway logs (logs.tail), or follow them",
    flags: {
      ...CONNECTION_FLAGS,
      follow: { type: "boolean", description: "Keep printing new lines" },
      limit: { type: "string", valueName: "<n>", description: "Lines to show (default 200)" },
      "max-bytes": {
        type: "string",
        valueName: "<n>",
        description: "Bytes to read at most (default 250000)",
      },
      interval: {
        type: "string",
        valueName: "<ms>",
        description: "Poll interval with --follow (default 1000)",
      },
      utc: { type: "boolean", description: "Show UTC times (default local)" },
    },
    async run({ flags }, ctx) {
      const setup = await querySetup(flags, ctx, { defaultTimeoutMs: 30_000 });
      const params = {
        limit: intFlag(flags, "limit", 1, 5000) ?? 200,
        maxBytes: intFlag(flags, "max-bytes", 1, 1_000_000) ?? 250_000,
      };
      const interval = intFlag(flags, "interval", 50, 600_000) ?? 1000;
      const utc = Boolean(flags.utc);
      const target = setup.gateway.targets[0];
      const connect = () => openConnection(host, target, setup.timeoutMs);
      let connection: GatewayConnection | undefined;
      try {
        connection = await connect();
      } catch (err) {
        if (flags.follow || target.id === "explicit") throw err;
        const file = join(ctx.paths.logDir, datedLogFileName(ctx.paths.profile, new Date()));
        ctx.output.err(`[logs] gateway unreachable (${(err as Error).message}); reading ${file}`);
        printLines(ctx, (await readLogTail(file, params)).lines, setup.json, utc);
        return 0;
      }
      let cursor: number | undefined;
      let failures = 0;
      try {
        while (true) {
          try {
            connection ??= await connect();
            const result: LogsTailResult = await connection.request(
              "logs.tail",
              cursor === undefined ? params : { ...params, cursor },
            );
            if (failures) ctx.output.err("[logs] gateway reconnected");
            failures = 0;
            printLines(ctx, result.lines, setup.json, utc);
            cursor = result.cursor;
          } catch (err) {
            connection?.close();
            connection = undefined;
            if (!flags.follow || ++failures > MAX_RETRIES) throw err;
            ctx.output.err(`[logs] ${(err as Error).message}; retry ${failures}/${MAX_RETRIES}`);
          }
          if (!flags.follow) return 0;
          const wait = failures ? Math.min(MAX_BACKOFF_MS, interval * 2 ** failures) : interval;
          const stopped = await sleepUnlessStopped(wait, ctx.shutdownSignal);
          if (stopped) return 0;
        }
      } finally {
        connection?.close();
      }
    },
  });
}

function sleepUnlessStopped(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
