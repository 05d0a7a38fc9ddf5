/**
 * Server-sent event responses: what a handler writes goes out at once, and a client that goes away
 * aborts the signal the handler was given (which cancels the run and its upstream request).
 *
 * @module
 */

/** Writes one SSE event: an optional `event:` line, then `data:`. */
export type SseWrite = (data: string, event?: string) => void;

const encoder = new TextEncoder();

/** A `text/event-stream` response fed by `produce`; `abort` is called when the client disconnects. */
export function sseResponse(produce: (write: SseWrite) => Promise<void>, abort: () => void): Response {
  let closed = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write: SseWrite = (data, event) => {
        if (closed) return;
        controller.enqueue(encoder.encode(`${event ? `event: ${event}\n` : ""}data: ${data}\n\n`));
      };
      // Producers report their own failures as SSE events; either way the stream ends here.
      const end = () => {
        if (closed) return;
        closed = true;
        controller.close();
      };
      produce(write).then(end, end);
    },
    cancel() {
      closed = true;
      abort();
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache" },
  });
}
