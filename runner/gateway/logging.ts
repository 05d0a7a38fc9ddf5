/**
 * The runner's log plumbing: every record is redacted once, then goes to the JSONL file and to the
 * console, each with its own level (`logging.level` for the file; `logging.consoleLevel`, raised to
 * `debug` by `--verbose`, for the console). Hot reload of `logging.*` retunes both in place.
 *
 * @module
 */
import type { GatewayConfig } from "../../lib/config/schema.ts";
import type { ConfigLogLevel } from "../../lib/config/sections/logging.ts";
import {
  createLogger,
  levelEnabled,
  type Logger,
  type LogLevel,
  type LogRecord,
  type LogSink,
} from "../../lib/log/logger.ts";
import type { ProfilePaths } from "../command.ts";
import { expandHome } from "../cli/profile-paths.ts";
import { ConsoleSink } from "../log/console-sink.ts";
import { JsonlFileSink } from "../log/file-sink.ts";
import { Redactor } from "../log/redact.ts";

/** What {@link createRunnerLogging} needs. */
export interface RunnerLoggingOptions {
  paths: ProfilePaths;
  home: string;
  verbose: boolean;
  /** Whether stdout is a terminal (pretty, coloured) or not (compact). */
  isTerminal: boolean;
  noColor: boolean;
  writeLine(line: string): void;
}

/** The sinks and the runner's own logger. */
export interface RunnerLogging {
  /** The sink to hand the core (`logSinks`): redacts, then fans out to file and console. */
  readonly sink: LogSink;
  readonly logger: Logger;
  readonly file: JsonlFileSink;
  readonly redactor: Redactor;
  /** Retunes levels, style and redaction from a config; `secrets` are exact values to hide. */
  apply(config: GatewayConfig, secrets: Iterable<string>): void;
  close(): void;
}

const ORDER: (LogLevel | "silent")[] = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

function lowest(a: LogLevel | "silent", b: LogLevel | "silent"): LogLevel {
  const level = ORDER[Math.min(ORDER.indexOf(a), ORDER.indexOf(b))];
  return level === "silent" ? "fatal" : level;
}

function consoleLevelOf(config: GatewayConfig, verbose: boolean): ConfigLogLevel {
  const configured = config.logging?.consoleLevel ?? "info";
  return verbose ? lowest(configured, "debug") : configured;
}

/** The subsystem of the gateway's access log (one record per HTTP request and WebSocket session). */
const ACCESS_SUBSYSTEM = "access";
/** At most this many access records wait for their write. */
const MAX_GATHERED = 512;

/** Builds the file and console sinks for a gateway run. */
export function createRunnerLogging(config: GatewayConfig, options: RunnerLoggingOptions): RunnerLogging {
  const redactor = new Redactor(config.logging?.redactPatterns);
  const file = new JsonlFileSink({
    file: config.logging?.file ? expandHome(config.logging.file, options.home) : undefined,
    dir: options.paths.logDir,
    profile: options.paths.profile,
    level: config.logging?.level ?? "info",
    maxFileBytes: config.logging?.maxFileBytes,
  });
  const consoleStyle = (c: GatewayConfig) =>
    c.logging?.consoleStyle ?? (options.isTerminal ? "pretty" : "compact");
  const consoleSink = new ConsoleSink({
    level: consoleLevelOf(config, options.verbose),
    style: consoleStyle(config),
    color: options.isTerminal && !options.noColor,
    writeLine: options.writeLine,
  });
  let fileLevel: LogLevel | "silent" = config.logging?.level ?? "info";
  let consoleLevel: LogLevel | "silent" = consoleLevelOf(config, options.verbose);
  // Access-log records come one per request: they are gathered and written together once the current
  // burst of work is done (a timer tick later), one write per sink instead of one per request. Any other
  // record first writes what is gathered, so the log keeps its order.
  let gathered: LogRecord[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (!gathered.length) return;
    const records = gathered;
    gathered = [];
    file.writeBatch(records);
    consoleSink.writeBatch(records);
  };
  const sink: LogSink = {
    write(record) {
      // Skip the redaction walk for records no destination wants.
      if (!levelEnabled(record.level, lowest(fileLevel, consoleLevel))) return;
      const clean = redactor.redact(record);
      if (record.subsystem === ACCESS_SUBSYSTEM) {
        gathered.push(clean);
        if (gathered.length >= MAX_GATHERED) flush();
        else flushTimer ??= setTimeout(flush, 0);
        return;
      }
      flush();
      file.write(clean);
      consoleSink.write(clean);
    },
  };
  return {
    sink,
    logger: createLogger({ sinks: [sink], level: "trace", subsystem: "runner" }),
    file,
    redactor,
    apply(next, secrets) {
      fileLevel = next.logging?.level ?? "info";
      consoleLevel = consoleLevelOf(next, options.verbose);
      file.update({ level: fileLevel, maxFileBytes: next.logging?.maxFileBytes });
      consoleSink.update({ level: consoleLevel, style: consoleStyle(next) });
      redactor.setPatterns(next.logging?.redactPatterns);
      redactor.setSecrets(secrets);
    },
    close: () => {
      flush();
      file.close();
    },
  };
}
