/**
 * Headers every gateway HTTP response carries, matching the reference gateway.
 *
 * @module
 */
import type { PreparedResponse } from "../types.ts";

const SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Permissions-Policy": "camera=(), microphone=(self), geolocation=()",
};

/**
 * Responses the helpers below built, which carry the headers already. Remembering them spares the
 * `response.headers` lookup, which makes Deno build a Headers object on every request.
 */
const secured = new WeakSet<Response>();

/** The text bodies of the responses built here, so they can be checked without reading the stream. */
const bodyTexts = new WeakMap<Response, string>();

/** The body of a response built by these helpers, or `undefined` for any other response. */
export function knownBodyText(response: Response): string | undefined {
  return bodyTexts.get(response);
}

/**
 * Returns `response` with the security headers added (without overriding a route's own), and `extra`
 * headers the deployment asks for on every answer (HSTS).
 */
export function withSecurityHeaders(response: Response, extra?: Readonly<Record<string, string>>): Response {
  const fresh = !secured.has(response) && !response.headers.has("X-Content-Type-Options");
  const wanted = fresh ? (extra ? { ...SECURITY_HEADERS, ...extra } : SECURITY_HEADERS) : extra;
  if (!wanted) return response;
  for (const [name, value] of Object.entries(wanted)) {
    if (response.headers.has(name)) continue;
    try {
      response.headers.set(name, value);
    } catch {
      // Immutable headers (e.g. a proxied upstream response): copy into a fresh response.
      return withSecurityHeaders(new Response(response.body, response), extra);
    }
  }
  return response;
}

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
    secured.add(copy);
    bodyTexts.set(copy, text);
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
  secured.add(response);
  bodyTexts.set(response, body);
  return response;
}
