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
  signal: AbortSignal,
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
      signal,
      // @ts-ignore: `duplex` is required for streaming bodies but missing from the DOM types.
      duplex: withBody ? "half" : undefined,
    });
  } catch {
    return undefined;
  }
  if (forbidden) Object.defineProperty(request, "method", { value: method });
  return request;
}
