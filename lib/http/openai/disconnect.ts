/**
 * Follows a client going away. Deno aborts `request.signal` also after a response was delivered
 * (its legacy behaviour, with a warning), so handlers listen only while their work runs and let go
 * before answering; streamed responses additionally abort when the client cancels the body.
 *
 * @module
 */

/** A signal that aborts when the client disconnects or `abort()` is called, until `release()`. */
export interface ClientAbort {
  readonly signal: AbortSignal;
  abort(): void;
  release(): void;
}

/** Links to `request.signal` until released. */
export function clientAbort(request: Request): ClientAbort {
  const controller = new AbortController();
  const onAbort = () => controller.abort(request.signal.reason);
  if (request.signal.aborted) controller.abort(request.signal.reason);
  else request.signal.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    abort: () => controller.abort(),
    release: () => request.signal.removeEventListener("abort", onAbort),
  };
}
