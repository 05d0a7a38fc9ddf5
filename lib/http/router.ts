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

  /** The route for `path`, or undefined. */
  match(path: string): HttpRoute | undefined {
    return this.#exact.get(path) ?? this.#prefixes.find((r) => path === r.path || path.startsWith(r.path));
  }

  async handle(request: Request, info: RequestInfo): Promise<Response> {
    const path = new URL(request.url).pathname;
    const route = this.match(path);
    if (!route) return textResponse("Not Found", 404);
    if (route.methods && !route.methods.includes(request.method)) {
      return textResponse("Method Not Allowed", 405, { Allow: route.methods.join(", ") });
    }
    return await route.handler(request, info);
  }
}
