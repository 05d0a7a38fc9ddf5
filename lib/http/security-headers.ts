/**
 * Headers every gateway HTTP response carries, matching the reference gateway, and the step that adds
 * them to whatever a route answered. The response builders (response.ts) put them in from the start.
 *
 * @module
 */

/** The reference's security headers. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Permissions-Policy": "camera=(), microphone=(self), geolocation=()",
};

/**
 * Marks responses the builders made, which carry the headers already. Remembering them spares the
 * `response.headers` lookup, which makes Deno build a Headers object on every request. A property, not a
 * WeakSet: a weak entry per response cost more than the lookup it spares (~0.1 µs to add, plus GC work).
 * Its value is the builder's text body when there is one (see response.ts): one property per response,
 * since each symbol property added to a Response is a map transition and a property store.
 */
const SECURED: unique symbol = Symbol("gateway security headers set");

type Marked = Response & { [SECURED]?: string | true };

/** Records that `response` carries the security headers already, and its text body when given. */
export function markSecured(response: Response, bodyText?: string): void {
  (response as Marked)[SECURED] = bodyText ?? true;
}

/** The text body {@link markSecured} recorded, or `undefined`. */
export function securedBodyText(response: Response): string | undefined {
  const mark = (response as Marked)[SECURED];
  return typeof mark === "string" ? mark : undefined;
}

/**
 * Returns `response` with the security headers added (without overriding a route's own), and `extra`
 * headers the deployment asks for on every answer (HSTS).
 */
export function withSecurityHeaders(response: Response, extra?: Readonly<Record<string, string>>): Response {
  const fresh = !(response as Marked)[SECURED] && !response.headers.has("X-Content-Type-Options");
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
