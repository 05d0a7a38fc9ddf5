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

/** Yields events as their blank-line terminator arrives; a body cut mid-event drops the partial event. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event: string | undefined;
  let data: string[] = [];
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let newline: number;
      while ((newline = buffer.search(/\r?\n/)) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer[newline] === "\r" ? 2 : 1));
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
    }
    if (data.length) yield { event, data: data.join("\n") };
  } finally {
    // Stopping early (the caller broke out or was aborted) must release the upstream connection.
    await reader.cancel().catch(() => {});
  }
}
