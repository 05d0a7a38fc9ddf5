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
  /** ISO 8601 UTC timestamp of when the record was made. */
  time: string;
  /** Severity of the record. */
  level: LogLevel;
  /** Part of the gateway that wrote it, such as `gateway` or `agents`. */
  subsystem: string;
  /** The message, a short human sentence; details go in the extra fields. */
  msg: string;
  /** Structured fields given by the caller (ids, counts, durations). */
  [field: string]: unknown;
}

/** Where records go: a file, the console, memory for `logs.tail`, a test array. */
export interface LogSink {
  /** Takes one record; must not throw and should not block. */
  write(record: LogRecord): void;
}

/** The logging surface handed to every part of the gateway. */
export interface Logger {
  /** Logs very detailed tracing, off unless the level is `trace`. */
  trace(msg: string, fields?: Record<string, unknown>): void;
  /** Logs diagnostics useful when debugging, off at the default `info` level. */
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** Logs a normal event worth keeping. */
  info(msg: string, fields?: Record<string, unknown>): void;
  /** Logs something unexpected that the gateway recovered from. */
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** Logs a failure that lost work or a request. */
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose records carry `subsystem` (and any extra fields). */
  child(subsystem: string, fields?: Record<string, unknown>): Logger;
}

/**
 * One record as a log line (the file, `logs.tail`). The reference's `openclaw logs` reads `time`,
 * `level`, `subsystem` and the text from `message`; without `message` it prints the raw JSON. So the
 * line carries the text under `message` too, and `msg` stays for this gateway's own readers.
 */
export function logLine(record: LogRecord): string {
  return JSON.stringify({ ...record, message: record.msg });
}

/** A log line read back into its record (`message` folded into `msg`), or `undefined` when it is not one. */
export function readLogLine(line: string): LogRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { message, ...record } = value as Record<string, unknown>;
  if (typeof record.time !== "string" || typeof record.level !== "string") return undefined;
  return { ...record, msg: String(record.msg ?? message ?? "") } as LogRecord;
}

/** Whether `level` passes a `min` threshold. */
export function levelEnabled(level: LogLevel, min: LogLevel): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[min];
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Every record at or above `level` is written to each of these, in order. */
  sinks: LogSink[];
  /** Lowest level written; default `"info"`. */
  level?: LogLevel;
  /** Subsystem of the root logger; default `"gateway"`. */
  subsystem?: string;
  /** Clock in epoch milliseconds, for timestamps; default `Date.now`. */
  now?: () => number;
}

/**
 * Builds a logger that fans each record out to every sink.
 *
 * @example Structured records in memory, with a subsystem per part of an app
 * ```ts
 * import { createLogger, MemoryLogSink } from "@openclaw-ts/gateway";
 *
 * const sink = new MemoryLogSink();
 * const logger = createLogger({ sinks: [sink], level: "debug" });
 * logger.child("billing", { tenant: "acme" }).debug("invoice sent", { invoiceId: 17 });
 * logger.trace("dropped: below the level");
 *
 * const [record] = sink.records;
 * if (sink.records.length !== 1 || record.subsystem !== "billing" || record.tenant !== "acme") {
 *   throw new Error(JSON.stringify(sink.records));
 * }
 * ```
 */
export function createLogger(options: LoggerOptions): Logger {
  const min = options.level ?? "info";
  const now = options.now ?? Date.now;
  // Formatting the time is half the cost of a record; a busy gateway writes many within one millisecond.
  let lastMs = Number.NaN;
  let lastTime = "";
  const time = () => {
    const ms = Math.floor(now());
    if (ms !== lastMs) {
      lastMs = ms;
      lastTime = new Date(ms).toISOString();
    }
    return lastTime;
  };
  const make = (subsystem: string, base: Record<string, unknown>): Logger => {
    const emit = (level: LogLevel) => {
      if (!levelEnabled(level, min)) return () => {};
      return (msg: string, fields?: Record<string, unknown>) => {
        // Not a spread: Node 20's V8 gives each object spread from another a hidden class of its own, some
        // 10 µs to build and half a KiB that every record the memory sink keeps would hold.
        const record: LogRecord = Object.assign({}, base, fields, { time: time(), level, subsystem, msg });
        for (const sink of options.sinks) sink.write(record);
      };
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

/**
 * Keeps the last `capacity` records in memory; backs `logs.tail` when no log file is configured. The
 * records sit in a ring: every HTTP request writes an access line here, and dropping the oldest with
 * `Array.prototype.shift` from a 2,000-record array leaves V8's fast path (a runtime call, and now and
 * then a copy of the whole array): ~110 ns a record on average against ~30 ns for the ring.
 */
export class MemoryLogSink implements LogSink {
  #ring: LogRecord[] = [];
  /** Where the oldest record is (and the next one goes) once the ring is full. */
  #oldest = 0;
  #dropped = 0;
  /** Keeps at most `capacity` records (default 2000), dropping the oldest. */
  constructor(readonly capacity = 2000) {}

  /** The kept records, oldest first: a copy, made on each read. */
  get records(): LogRecord[] {
    return [...this.#ring.slice(this.#oldest), ...this.#ring.slice(0, this.#oldest)];
  }

  /** Appends `record`, dropping the oldest one once over capacity. */
  write(record: LogRecord): void {
    if (this.#ring.length < this.capacity) {
      this.#ring.push(record);
      return;
    }
    this.#dropped++;
    if (this.capacity <= 0) return;
    this.#ring[this.#oldest] = record;
    this.#oldest = this.#oldest + 1 === this.capacity ? 0 : this.#oldest + 1;
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
