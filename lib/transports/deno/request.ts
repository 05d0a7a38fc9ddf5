/**
 * Builds the fetch `Request` a parsed head stands for, the way the other transports do: CONNECT, TRACE
 * and TRACK (which fetch refuses to build) are built body-less and report their real method, so the
 * router answers them with 405.
 *
 * @module
 */
import { FETCH_FORBIDDEN_METHODS } from "../types.ts";
import type { RequestBody } from "./http1-body.ts";
import type { RequestHead } from "./http1-parser.ts";

/** The request's URL: origin-form under its Host, absolute-form as sent; undefined if neither. */
function requestUrl(head: RequestHead, origin: string): string | undefined {
  const target = head.target;
  const base = head.host ? `${origin.slice(0, origin.indexOf(":"))}://${head.host}` : origin;
  if (target[0] === "/") return base + target;
  if (target.startsWith("http://") || target.startsWith("https://")) return target;
  // `*` (OPTIONS) and CONNECT's authority-form name no path; the router sees `/`.
  if (target === "*" || head.method === "CONNECT") return `${base}/`;
  return undefined;
}

/**
 * The request, with `body` as its stream when its method may carry one (an unusable body stays on the
 * connection, which drains or closes it); undefined for a target no URL can be made of.
 */
export function buildRequest(
  head: RequestHead,
  origin: string,
  body: RequestBody | undefined,
  peer?: PeerPresence,
): Request | undefined {
  const url = requestUrl(head, origin);
  if (url === undefined) return undefined;
  const method = head.method;
  const forbidden = FETCH_FORBIDDEN_METHODS.has(method);
  const withBody = body !== undefined && !forbidden && method !== "GET" && method !== "HEAD";
  let request: Request;
  try {
    request = new Request(url, {
      method: forbidden ? "GET" : method,
      headers: head.fields,
      body: withBody ? body.stream() : undefined,
      // @ts-ignore: `duplex` is required for streaming bodies but missing from the DOM types.
      duplex: withBody ? "half" : undefined,
    });
  } catch {
    return undefined;
  }
  if (forbidden) Object.defineProperty(request, "method", { value: method });
  // A signal passed to the constructor costs a dependent signal (a WeakRef and a finalizer) per request;
  // most routes never look, so it is made when first read.
  if (peer) Object.defineProperty(request, "signal", { get: () => peer.signal });
  return request;
}

/**
 * Whether the peer of the request being served is still there. `request.signal` is made from it only
 * when a route asks for it, and aborts when the peer hangs up.
 */
export class PeerPresence {
  #controller: AbortController | undefined;
  #gone = false;
  #onGone: (() => void) | undefined;

  /** Aborted once the peer has gone. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#gone) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** The peer hung up. */
  gone(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#controller?.abort();
    this.#onGone?.();
  }

  /** Runs `callback` when the peer goes (at once if it has). */
  whenGone(callback: () => void): void {
    if (this.#gone) callback();
    else this.#onGone = callback;
  }
}
