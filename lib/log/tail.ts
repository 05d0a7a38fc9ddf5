/**
 * `logs.tail`: reads the gateway log from a cursor. The in-memory source serves embedded gateways;
 * the runner supplies a file-backed one reading its JSONL log.
 *
 * @module
 */
import { logLine, type MemoryLogSink } from "./logger.ts";

/** `logs.tail` params. */
export interface LogsTailParams {
  /**
   * Record number to read from, as returned in a previous result's `cursor`; default: the last `limit`
   * records.
   */
  cursor?: number;
  /** Most lines to return; default 200. */
  limit?: number;
  /** Most bytes of lines to return (newest lines kept); default 250000. */
  maxBytes?: number;
}

/** `logs.tail` result, as protocol v4 shapes it. */
export interface LogsTailResult {
  /** The log file read, or `(memory)` for the in-memory log. */
  file: string;
  /** Where the next call should continue reading. */
  cursor: number;
  /** Total size of the log, in records or bytes depending on the source. */
  size: number;
  /** The log records read, one JSON object per line, oldest first. */
  lines: string[];
  /** Whether lines were left out to stay within `limit` or `maxBytes`. */
  truncated?: boolean;
  /** Whether the given cursor was no longer valid and reading restarted at the oldest record kept. */
  reset?: boolean;
}

/** Something `logs.tail` can read from. */
export interface LogTailSource {
  /** Reads the log lines after `params.cursor`. */
  tail(params: LogsTailParams): Promise<LogsTailResult>;
}

/** Default number of lines when the caller gives no limit. */
export const DEFAULT_TAIL_LIMIT = 200;

/**
 * Serves `logs.tail` from a {@link MemoryLogSink}. Cursors count records ever written, so a cursor that
 * fell off the front of the buffer gets `reset: true` and the oldest records still held.
 */
export class MemoryLogTail implements LogTailSource {
  constructor(private readonly sink: MemoryLogSink) {}

  tail(params: LogsTailParams): Promise<LogsTailResult> {
    const limit = params.limit ?? DEFAULT_TAIL_LIMIT;
    const maxBytes = params.maxBytes ?? 250_000;
    const first = this.sink.dropped;
    const records = this.sink.records;
    const end = first + records.length;
    const requested = params.cursor ?? Math.max(first, end - limit);
    const reset = requested < first || requested > end;
    let start = reset ? first : requested;
    let truncated = false;
    if (end - start > limit) {
      start = end - limit;
      truncated = true;
    }
    const lines: string[] = [];
    let bytes = 0;
    for (let i = start; i < end; i++) {
      const line = logLine(records[i - first]);
      bytes += line.length + 1;
      if (bytes > maxBytes) {
        truncated = true;
        lines.length = 0;
        // Keep the newest lines that fit rather than the oldest.
        let kept = 0;
        for (let j = end - 1; j >= start; j--) {
          const l = logLine(records[j - first]);
          kept += l.length + 1;
          if (kept > maxBytes) break;
          lines.unshift(l);
        }
        break;
      }
      lines.push(line);
    }
    return Promise.resolve({ file: "(memory)", cursor: end, size: end, lines, truncated, reset });
  }
}
