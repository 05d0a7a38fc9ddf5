/**
 * Serves `logs.tail` from the JSONL log file: cursors are byte offsets, so a client can resume where it
 * stopped; a cursor past the end (the file rolled) restarts from the newest lines with `reset: true`.
 *
 * @module
 */
import type { LogsTailParams, LogsTailResult, LogTailSource } from "../../lib/log/tail.ts";

const DEFAULT_LIMIT = 200;
const DEFAULT_MAX_BYTES = 250_000;

/** Reads the tail of whatever file `currentPath()` names (it changes when the day rolls over). */
export class FileLogTail implements LogTailSource {
  constructor(private readonly currentPath: () => string) {}

  async tail(params: LogsTailParams): Promise<LogsTailResult> {
    return await readLogTail(this.currentPath(), params);
  }
}

/** Reads lines of `file` after `cursor`, at most `limit` lines and `maxBytes` bytes (newest kept). */
export async function readLogTail(file: string, params: LogsTailParams): Promise<LogsTailResult> {
  const limit = params.limit ?? DEFAULT_LIMIT;
  const maxBytes = params.maxBytes ?? DEFAULT_MAX_BYTES;
  let size = 0;
  try {
    size = (await Deno.stat(file)).size;
  } catch {
    return { file, cursor: 0, size: 0, lines: [], reset: params.cursor !== undefined && params.cursor > 0 };
  }
  const reset = params.cursor !== undefined && params.cursor > size;
  const from = params.cursor === undefined || reset ? Math.max(0, size - maxBytes) : params.cursor;
  const start = Math.max(from, size - maxBytes);
  const handle = await Deno.open(file, { read: true });
  try {
    await handle.seek(start, Deno.SeekMode.Start);
    const buffer = new Uint8Array(size - start);
    let read = 0;
    while (read < buffer.length) {
      const n = await handle.read(buffer.subarray(read));
      if (n === null) break;
      read += n;
    }
    const text = new TextDecoder().decode(buffer.subarray(0, read));
    // Starting mid-file lands inside a line; skip to the next full one.
    const skip = start > 0 && start !== params.cursor ? text.indexOf("\n") + 1 : 0;
    // A line still being written (no newline yet) is left for the next call.
    const complete = text.slice(skip, text.lastIndexOf("\n") + 1);
    const all = complete.split("\n").filter(Boolean);
    const lines = all.slice(-limit);
    return {
      file,
      cursor: start + byteLength(text.slice(0, skip)) + byteLength(complete),
      size,
      lines,
      truncated: lines.length < all.length || start > from,
      reset,
    };
  } finally {
    handle.close();
  }
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}
