/**
 * The gateway's response builders: JSON and plain-text answers with the security headers in place, and
 * prepared answers served many times with the same bytes.
 *
 * @module
 */
import { markSecured, SECURITY_HEADERS } from "./security-headers.ts";
import type { PreparedResponse } from "../types.ts";

/** A JSON response with the gateway's content type and security headers. */
export function jsonResponse(body: unknown, status = 200, headers?: Record<string, string>): Response {
  return jsonTextResponse(JSON.stringify(body), status, headers);
}

/** {@link jsonResponse} for a body that is already serialized (e.g. cached). */
export function jsonTextResponse(text: string, status = 200, headers?: Record<string, string>): Response {
  return securedResponse(text, status, JSON_HEADERS, headers);
}

/** A plain-text response with the security headers. */
export function textResponse(body: string, status: number, headers?: Record<string, string>): Response {
  return securedResponse(body, status, TEXT_HEADERS, headers);
}

/**
 * A JSON response served many times with the same bytes (a cached list, the liveness answer). When
 * `cloneIsCheap` (the transport's word on its runtime), each call clones one template: Deno's clone
 * shares the buffered body and skips the per-response header preparation that a freshly built
 * four-header Response pays, about a third of a small response's cost there. undici's clone tees a
 * stream (and re-tees the template every time), so without the flag each call builds anew.
 */
export function preparedJsonResponse(
  text: string,
  cloneIsCheap: boolean,
  status = 200,
  headers?: Record<string, string>,
): PreparedResponse {
  if (!cloneIsCheap) return () => jsonTextResponse(text, status, headers);
  const template = jsonTextResponse(text, status, headers);
  return () => {
    const copy = template.clone();
    markSecured(copy, text);
    return copy;
  };
}

const JSON_HEADERS = { "Content-Type": "application/json; charset=utf-8", ...SECURITY_HEADERS };
const TEXT_HEADERS = { "Content-Type": "text/plain; charset=utf-8", ...SECURITY_HEADERS };

function securedResponse(
  body: string,
  status: number,
  base: Record<string, string>,
  extra: Record<string, string> | undefined,
): Response {
  const response = new Response(body, { status, headers: extra ? { ...base, ...extra } : base });
  markSecured(response, body);
  return response;
}
