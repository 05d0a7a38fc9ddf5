/**
 * The console form of the log: `pretty` (the shared `formatPretty` line, level coloured on a terminal),
 * `compact` (the same without colour) or `json` (the JSONL record itself).
 *
 * @module
 */
import {
  formatPretty,
  levelEnabled,
  type LogLevel,
  type LogRecord,
  type LogSink,
} from "../../lib/log/logger.ts";

/** Options for {@link ConsoleSink}. */
export interface ConsoleSinkOptions {
  level: LogLevel | "silent";
  style: "pretty" | "compact" | "json";
  color: boolean;
  writeLine(line: string): void;
}

const COLORS: Partial<Record<LogLevel, string>> = {
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[31m",
  debug: "\x1b[90m",
  trace: "\x1b[90m",
};

/** Prints records a person reads while the gateway runs in the foreground. */
export class ConsoleSink implements LogSink {
  constructor(private options: ConsoleSinkOptions) {}

  /** Applies a new level or style (hot reload of `logging.*`). */
  update(options: Partial<Pick<ConsoleSinkOptions, "level" | "style">>): void {
    this.options = { ...this.options, ...options };
  }

  write(record: LogRecord): void {
    this.writeBatch([record]);
  }

  /** Prints several records with one write. */
  writeBatch(records: LogRecord[]): void {
    const lines = records.map((record) => this.#format(record)).filter((line) => line !== undefined);
    if (lines.length) this.options.writeLine(lines.join("\n"));
  }

  #format(record: LogRecord): string | undefined {
    const { level, style, color } = this.options;
    if (level === "silent" || !levelEnabled(record.level, level)) return undefined;
    if (style === "json") return JSON.stringify(record);
    const line = formatPretty(record);
    const tint = style === "pretty" && color ? COLORS[record.level] : undefined;
    return tint ? `${tint}${line}\x1b[0m` : line;
  }
}
