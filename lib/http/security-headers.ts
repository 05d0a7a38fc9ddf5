/**
 * Headers every gateway HTTP response carries, matching the reference gateway.
 *
 * @module
 */

const SECURITY_HEADERS: Record<string, string> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Permissions-Policy": "camera=(), microphone=(self), geolocation=()",
};

/** Returns `response` with the security headers added (without overriding a route's own). */
export function withSecurityHeaders(response: Response): Response {
  // Responses built by the helpers below already carry them: one lookup settles the common case.
  if (response.headers.has("X-Content-Type-Options")) return response;
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (!response.headers.has(name)) {
      try {
        response.headers.set(name, value);
      } catch {
        // Immutable headers (e.g. a proxied upstream response): copy into a fresh response.
        const copy = new Response(response.body, response);
        return withSecurityHeaders(copy);
      }
    }
  }
  return response;
}

/** A JSON response with the gateway's content type and security headers. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return jsonTextResponse(JSON.stringify(body), status, headers);
}

/** {@link jsonResponse} for a body that is already serialized (e.g. cached). */
export function jsonTextResponse(text: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(text, {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...SECURITY_HEADERS, ...headers },
  });
}

/** A plain-text response with the security headers. */
export function textResponse(body: string, status: number, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", ...SECURITY_HEADERS, ...headers },
  });
}
