/**
 * Routes HTTP requests to registered handlers: exact paths first, then the longest matching prefix.
 *
 * @module
 */
import type { HttpRoute, RequestInfo } from "../types.ts";
import { textResponse } from "./security-headers.ts";

/** The gateway's HTTP route table. */
export class HttpRouter {
  #exact = new Map<string, HttpRoute>();
  #prefixes: HttpRoute[] = [];

  add(route: HttpRoute): void {
    if (route.prefix) {
      this.#prefixes.push(route);
      this.#prefixes.sort((a, b) => b.path.length - a.path.length);
    } else {
      if (this.#exact.has(route.path)) throw new Error(`HTTP route ${route.path} is already registered`);
      this.#exact.set(route.path, route);
    }
  }

  /** The route for `path`, or undefined. Prefixes match whole segments: `/hooks` is not `/hooksx`. */
  match(path: string): HttpRoute | undefined {
    return this.#exact.get(path) ??
      this.#prefixes.find((r) =>
        path === r.path || path.startsWith(r.path.endsWith("/") ? r.path : `${r.path}/`)
      );
  }

  /**
   * Answers `request`; `route` is for metrics labels: the matched route's path, or `other` for every
   * unmatched path (the client picks the path, so it never becomes a label).
   */
  handle(request: Request, info: RequestInfo): { route: string; response: Response | Promise<Response> } {
    const route = this.match(pathOf(request.url));
    if (!route) return { route: "other", response: textResponse("Not Found", 404) };
    if (route.methods && !route.methods.includes(request.method)) {
      return {
        route: route.path,
        response: textResponse("Method Not Allowed", 405, { Allow: route.methods.join(", ") }),
      };
    }
    return { route: route.path, response: route.handler(request, info) };
  }
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
