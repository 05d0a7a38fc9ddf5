/**
 * `logs.tail`: reads the gateway log from a cursor. The in-memory source serves embedded gateways;
 * the runner supplies a file-backed one reading its JSONL log.
 *
 * @module
 */
import type { MemoryLogSink } from "./logger.ts";

/** `logs.tail` params. */
export interface LogsTailParams {
  cursor?: number;
  limit?: number;
  maxBytes?: number;
}

/** `logs.tail` result, as protocol v4 shapes it. */
export interface LogsTailResult {
  file: string;
  cursor: number;
  size: number;
  lines: string[];
  truncated?: boolean;
  reset?: boolean;
}

/** Something `logs.tail` can read from. */
export interface LogTailSource {
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
    const end = first + this.sink.records.length;
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
      const line = JSON.stringify(this.sink.records[i - first]);
      bytes += line.length + 1;
      if (bytes > maxBytes) {
        truncated = true;
        lines.length = 0;
        // Keep the newest lines that fit rather than the oldest.
        let kept = 0;
        for (let j = end - 1; j >= start; j--) {
          const l = JSON.stringify(this.sink.records[j - first]);
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
