/**
 * The `logging` section of `openclaw.json`.
 *
 * @module
 */
import * as z from "zod";

/** Levels a config may name; `silent` turns a destination off. */
export type ConfigLogLevel = "silent" | "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/** The whole `logging` section. */
export interface LoggingSection {
  /** File log level (default `info`). */
  level?: ConfigLogLevel;
  /** File path; overrides the dated file in the profile's log directory. */
  file?: string;
  /** A file is rolled to `.1` … `.5` before it would grow past this (default 100 MiB). */
  maxFileBytes?: number;
  /** Console level (default `info`; `--verbose` raises it to `debug`). */
  consoleLevel?: ConfigLogLevel;
  /** Console rendering; unset means pretty on a terminal and compact otherwise. */
  consoleStyle?: "pretty" | "compact" | "json";
  /** Regular expressions whose matches are redacted; replaces the defaults when set. */
  redactPatterns?: string[];
  /** One info line per HTTP request and WebSocket disconnect (default on); off for very busy gateways. */
  accessLog?: boolean;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

const level = z.enum(["silent", "fatal", "error", "warn", "info", "debug", "trace"]);

/** Validates the `logging` section. */
export const LoggingSectionSchema: z.ZodType<LoggingSection> = z.looseObject({
  level: level.optional(),
  file: z.string().optional(),
  maxFileBytes: z.number().int().positive().optional(),
  consoleLevel: level.optional(),
  consoleStyle: z.enum(["pretty", "compact", "json"]).optional(),
  redactPatterns: z.array(z.string()).optional(),
  /** Access log on unless set to false: who called what, answered how, in how long. */
  accessLog: z.boolean().optional(),
});
