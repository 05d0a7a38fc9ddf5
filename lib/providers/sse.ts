/**
 * Reads a `text/event-stream` body into events. Both OpenAI (`data:` only) and Anthropic (`event:` +
 * `data:`) stream this way.
 *
 * @module
 */

/** One server-sent event. */
export interface SseEvent {
  event?: string;
  data: string;
}

/**
 * The longest line (in UTF-16 units, so at least as many bytes) an upstream may send. A line is held
 * until its newline arrives, so without a limit a stream that never sends one grows without bound.
 */
export const MAX_SSE_LINE_CHARS = 1024 * 1024;

/**
 * Yields events as their blank-line terminator arrives; a body cut mid-event drops the partial event.
 * A line longer than `MAX_SSE_LINE_CHARS` ends the read with the error `tooLong` returns.
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  tooLong: (limit: number) => unknown,
): AsyncGenerator<SseEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event: string | undefined;
  let data: string[] = [];
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      // Only the new text can hold a newline: rescanning the held part would make a long line quadratic.
      let from = buffer.length;
      buffer += value;
      let start = 0;
      let newline: number;
      while ((newline = buffer.indexOf("\n", from)) !== -1) {
        if (newline - start > MAX_SSE_LINE_CHARS) throw tooLong(MAX_SSE_LINE_CHARS);
        const end = newline > start && buffer[newline - 1] === "\r" ? newline - 1 : newline;
        const line = buffer.slice(start, end);
        start = from = newline + 1;
        if (line === "") {
          if (data.length) yield { event, data: data.join("\n") };
          event = undefined;
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        } else if (line.startsWith("event:")) {
          event = line.slice(6).trim();
        }
        // Comments (`:` keep-alives), `id:` and `retry:` carry nothing a provider needs.
      }
      buffer = buffer.slice(start);
      if (buffer.length > MAX_SSE_LINE_CHARS) throw tooLong(MAX_SSE_LINE_CHARS);
    }
    if (data.length) yield { event, data: data.join("\n") };
  } finally {
    // Stopping early (the caller broke out, was aborted or hit a limit) must release the connection.
    await reader.cancel().catch(() => {});
  }
}
