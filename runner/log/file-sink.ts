/**
 * The JSONL log file: one record per line, a new file each local day
 * (`openclaw[-<profile>]-YYYY-MM-DD.log` in the profile's log directory, or `logging.file`), rolled to
 * `.1` … `.5` before a write would pass the size cap. Writes are synchronous so a crash loses nothing
 * already logged.
 *
 * @module
 */
import { join } from "../cli/paths.ts";
import { levelEnabled, type LogLevel, logLine, type LogRecord, type LogSink } from "../../lib/log/logger.ts";

/** OpenClaw's default `logging.maxFileBytes`. */
export const DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024;
const ARCHIVES = 5;

/** Options for {@link JsonlFileSink}. */
export interface FileSinkOptions {
  /** A fixed file (`logging.file`); otherwise a dated file in `dir`. */
  file?: string;
  dir: string;
  profile: string;
  level: LogLevel | "silent";
  maxFileBytes?: number;
  now?: () => Date;
}

/** The dated file name for a profile and day (local time, as OpenClaw names them). */
export function datedLogFileName(profile: string, day: Date): string {
  const date = `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, "0")}-${
    String(day.getDate()).padStart(2, "0")
  }`;
  const tag = profile === "default" ? "" : `-${profile.toLowerCase().replace(/[^a-z0-9_-]/g, "_")}`;
  return `openclaw${tag}-${date}.log`;
}

/** Appends records as JSON lines, rolling by day and by size. */
export class JsonlFileSink implements LogSink {
  #file?: Deno.FsFile;
  #path = "";
  #size = 0;
  readonly #encoder = new TextEncoder();

  constructor(private options: FileSinkOptions) {}

  /** The file currently written to (it changes at midnight). */
  get path(): string {
    return this.options.file ?? join(this.options.dir, datedLogFileName(this.options.profile, this.#now()));
  }

  /** Applies a new level or size cap (hot reload of `logging.*`). */
  update(options: Partial<Pick<FileSinkOptions, "level" | "maxFileBytes">>): void {
    this.options = { ...this.options, ...options };
  }

  write(record: LogRecord): void {
    this.writeBatch([record]);
  }

  /** Writes several records with one system call (a burst of access-log lines costs one write). */
  writeBatch(records: LogRecord[]): void {
    const { level } = this.options;
    if (level === "silent") return;
    const text = records.filter((r) => levelEnabled(r.level, level)).map((r) => logLine(r) + "\n").join("");
    if (!text) return;
    const bytes = this.#encoder.encode(text);
    try {
      this.#ensureOpen();
      if (
        this.#size > 0 && this.#size + bytes.length > (this.options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES)
      ) {
        this.#roll();
      }
      this.#file!.writeSync(bytes);
      this.#size += bytes.length;
    } catch {
      // A full or read-only disk must not take the gateway down; the console still shows the record.
    }
  }

  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }

  #now(): Date {
    return this.options.now?.() ?? new Date();
  }

  #ensureOpen(): void {
    const path = this.path;
    if (this.#file && path === this.#path) return;
    this.close();
    Deno.mkdirSync(this.options.file ? join(path, "..") : this.options.dir, { recursive: true, mode: 0o700 });
    this.#file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
    this.#path = path;
    this.#size = this.#file.statSync().size;
  }

  #roll(): void {
    this.close();
    for (let i = ARCHIVES - 1; i >= 1; i--) {
      try {
        Deno.renameSync(`${this.#path}.${i}`, `${this.#path}.${i + 1}`);
      } catch { /* that archive does not exist yet */ }
    }
    Deno.renameSync(this.#path, `${this.#path}.1`);
    this.#ensureOpen();
  }
}
