/**
 * Server-sent event responses: what a handler writes goes out at once, and a client that goes away
 * aborts the signal the handler was given (which cancels the run and its upstream request).
 *
 * @module
 */
import type { ClientAbort } from "./disconnect.ts";

/** Writes one SSE event: an optional `event:` line, then `data:`. */
export type SseWrite = (data: string, event?: string) => void;

const encoder = new TextEncoder();

/** A `text/event-stream` response fed by `produce`, following `client` until the stream ends. */
export function sseResponse(produce: (write: SseWrite) => Promise<void>, client: ClientAbort): Response {
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write: SseWrite = (data, event) => {
        if (closed) return;
        controller.enqueue(encoder.encode(`${event ? `event: ${event}\n` : ""}data: ${data}\n\n`));
      };
      // Producers report their own failures as SSE events; either way the stream ends here.
      const end = () => {
        client.release();
        if (closed) return;
        closed = true;
        controller.close();
      };
      produce(write).then(end, end);
    },
    cancel() {
      closed = true;
      client.abort();
      client.release();
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache" },
  });
}
