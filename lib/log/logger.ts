/**
 * Structured logging. Every record is one JSON object (JSONL on disk); sinks decide how it is shown.
 *
 * @module
 */

/** Severity, lowest first. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

const LEVEL_RANK: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** One log record as written to a sink. */
export interface LogRecord {
  time: string;
  level: LogLevel;
  subsystem: string;
  msg: string;
  [field: string]: unknown;
}

/** Where records go: a file, the console, memory for `logs.tail`, a test array. */
export interface LogSink {
  write(record: LogRecord): void;
}

/** The logging surface handed to every part of the gateway. */
export interface Logger {
  trace(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose records carry `subsystem` (and any extra fields). */
  child(subsystem: string, fields?: Record<string, unknown>): Logger;
}

/** Whether `level` passes a `min` threshold. */
export function levelEnabled(level: LogLevel, min: LogLevel): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[min];
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  sinks: LogSink[];
  level?: LogLevel;
  subsystem?: string;
  now?: () => number;
}

/** Builds a logger that fans each record out to every sink. */
export function createLogger(options: LoggerOptions): Logger {
  const min = options.level ?? "info";
  const now = options.now ?? Date.now;
  const make = (subsystem: string, base: Record<string, unknown>): Logger => {
    const emit = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
      if (!levelEnabled(level, min)) return;
      const record: LogRecord = {
        ...base,
        ...fields,
        time: new Date(now()).toISOString(),
        level,
        subsystem,
        msg,
      };
      for (const sink of options.sinks) sink.write(record);
    };
    return {
      trace: emit("trace"),
      debug: emit("debug"),
      info: emit("info"),
      warn: emit("warn"),
      error: emit("error"),
      child: (sub, fields) => make(sub, { ...base, ...fields }),
    };
  };
  return make(options.subsystem ?? "gateway", {});
}

/** Keeps the last `capacity` records in memory; backs `logs.tail` when no log file is configured. */
export class MemoryLogSink implements LogSink {
  readonly records: LogRecord[] = [];
  #dropped = 0;
  constructor(readonly capacity = 2000) {}

  write(record: LogRecord): void {
    this.records.push(record);
    if (this.records.length > this.capacity) {
      this.records.shift();
      this.#dropped++;
    }
  }

  /** How many records fell off the front; the `logs.tail` cursor counts them. */
  get dropped(): number {
    return this.#dropped;
  }
}

/** Renders a record the way a person reads it on a terminal. */
export function formatPretty(record: LogRecord): string {
  const { time, level, subsystem, msg, ...rest } = record;
  const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return `${time.slice(11, 23)} ${level.toUpperCase().padEnd(5)} [${subsystem}] ${msg}${
    extra.length ? " " + extra.join(" ") : ""
  }`;
}
