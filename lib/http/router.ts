/**
 * Routes HTTP requests to registered handlers: exact paths first, then the longest matching prefix. Each
 * route declares who may call it (`auth`, `scope`); the router checks that before the handler runs, so
 * no handler authenticates by hand and none reads a body from a caller it has not admitted.
 *
 * @module
 */
import { type MethodScope, scopeSatisfied } from "../protocol/scopes.ts";
import type { HttpAuthenticator, HttpAuthResult, HttpRoute, RequestInfo } from "../types.ts";
import { jsonResponse, textResponse } from "./response.ts";

/** Options for {@link HttpRouter}. */
export interface HttpRouterOptions {
  /** Checks `auth: "gateway"` routes' callers; a router without it refuses to add such routes. */
  authenticate?: HttpAuthenticator;
}

/** The gateway's HTTP route table. */
export class HttpRouter {
  #exact = new Map<string, HttpRoute>();
  /** Prefix routes, longest first, each with its path as a whole segment (`/hooks/`), made once. */
  #prefixes: { route: HttpRoute; below: string }[] = [];
  readonly #authenticate: HttpAuthenticator | undefined;

  constructor(options: HttpRouterOptions = {}) {
    this.#authenticate = options.authenticate;
  }

  /** Adds `route`; an exact path can be registered once. */
  add(route: HttpRoute): void {
    if ((route.auth === "gateway" || route.auth === "control-ui-read") && !this.#authenticate) {
      throw new Error(`HTTP route ${route.path} needs gateway auth, but this router has no authenticator`);
    }
    if (route.prefix) {
      this.#prefixes.push({ route, below: route.path.endsWith("/") ? route.path : `${route.path}/` });
      this.#prefixes.sort((a, b) => b.route.path.length - a.route.path.length);
    } else {
      if (this.#exact.has(route.path)) throw new Error(`HTTP route ${route.path} is already registered`);
      this.#exact.set(route.path, route);
    }
  }

  /** The route for `path`, or undefined. Prefixes match whole segments: `/hooks` is not `/hooksx`. */
  match(path: string): HttpRoute | undefined {
    const exact = this.#exact.get(path);
    if (exact) return exact;
    // A loop, not `find` with a closure: this runs on every request.
    for (const { route, below } of this.#prefixes) {
      if (path === route.path || path.startsWith(below)) return route;
    }
    return undefined;
  }

  /**
   * Answers `request`; `route` is for metrics labels: the matched route's path, or `other` for every
   * unmatched path (the client picks the path, so it never becomes a label).
   */
  handle(request: Request, info: RequestInfo): { route: string; response: Response | Promise<Response> } {
    const route = this.match(pathOf(request.url));
    if (!route) return { route: "other", response: notFound() };
    if (route.methods && !route.methods.includes(request.method)) {
      return {
        route: route.path,
        response: textResponse("Method Not Allowed", 405, { Allow: route.methods.join(", ") }),
      };
    }
    if (route.enabled && !route.enabled(request)) return { route: route.path, response: notFound() };
    return { route: route.path, response: this.#admit(route, request, info) };
  }

  /** Runs the route's auth, then its handler; stays synchronous when both are (no promise per request). */
  #admit(route: HttpRoute, request: Request, info: RequestInfo): Response | Promise<Response> {
    const auth = route.auth ?? "none";
    if (auth === "none") return route.handler(request, info, undefined);
    const verdict = auth === "gateway"
      ? this.#authenticate!(request, info)
      : auth === "control-ui-read"
      ? this.#authenticate!(request, info, DEVICE_TOKENS)
      : auth(request, info);
    return verdict instanceof Promise
      ? verdict.then((settled) => admitted(route, request, info, settled))
      : admitted(route, request, info, verdict);
  }
}

const DEVICE_TOKENS = { deviceTokens: true } as const;

function admitted(
  route: HttpRoute,
  request: Request,
  info: RequestInfo,
  verdict: HttpAuthResult,
): Response | Promise<Response> {
  if (!verdict.ok) return verdict.response;
  if (route.scope && !scopeSatisfied(verdict.caller.scopes, route.scope)) {
    return (route.scopeRefusal ?? missingScopeResponse)(route.scope);
  }
  return route.handler(request, info, verdict.caller);
}

/** The default scope refusal, in the shape of the gateway's other HTTP errors. */
function missingScopeResponse(scope: MethodScope): Response {
  return jsonResponse({ error: { message: `missing scope: ${scope}`, type: "forbidden" } }, 403);
}

function notFound(): Response {
  return textResponse("Not Found", 404);
}

/**
 * The path of an absolute request URL without building a URL object: this runs on every request.
 * Percent-escapes are left as they are, as `URL.pathname` leaves them.
 */
export function pathOf(url: string): string {
  const afterScheme = url.indexOf("//");
  const start = url.indexOf("/", afterScheme < 0 ? 0 : afterScheme + 2);
  if (start < 0) return "/";
  let end = url.length;
  const query = url.indexOf("?", start);
  if (query >= 0) end = query;
  const hash = url.indexOf("#", start);
  if (hash >= 0 && hash < end) end = hash;
  return url.slice(start, end);
}
