/**
 * The HTTP entry point transports call for every non-upgrade request: waits for module setup the first
 * time, routes, redacts secrets from the answer, adds the security headers, reports to observers and
 * writes the access-log line. A handler that throws becomes a redacted 500.
 *
 * @module
 */
import { toErrorShape } from "../errors.ts";
import { redactResponse } from "../http/redact-response.ts";
import { jsonResponse } from "../http/response.ts";
import { withSecurityHeaders } from "../http/security-headers.ts";
import type { RequestInfo } from "../types.ts";
import type { AccessLog } from "./access-log.ts";
import type { GatewayCore } from "./core.ts";
import type { ModuleSetup } from "./modules.ts";

/** Creates the request handler; `modules` gates requests until setup is done. */
export function createServe(
  { state, now, logger, secrets, router, observers: { observers, notify } }: Pick<
    GatewayCore,
    "state" | "now" | "logger" | "secrets" | "router" | "observers"
  >,
  { accessLog, modules }: { accessLog: AccessLog; modules: ModuleSetup },
): (request: Request, info: RequestInfo) => Response | Promise<Response> {
  /** The headers every answer carries besides the fixed security headers: HSTS, when configured. */
  const deploymentHeaders = (): Record<string, string> | undefined => {
    const value = state.config.gateway?.http?.securityHeaders?.strictTransportSecurity;
    return typeof value === "string" && value ? { "Strict-Transport-Security": value } : undefined;
  };

  const fail = (request: Request, error: unknown) => {
    logger.error("http handler failed", { url: request.url, error: String(error) });
    const shape = toErrorShape(error);
    return redactResponse(
      jsonResponse({ error: { message: shape.message, type: "server_error" } }, 500),
      secrets,
    );
  };
  /** The request's answer as it leaves: security headers, observers, the access-log line. */
  const secure = (request: Request, route: string, started: number, logged: boolean, res: Response) => {
    const secured = withSecurityHeaders(res, deploymentHeaders());
    if (observers.size) notify((o) => o.http?.(route, request.method, secured.status, now() - started));
    if (logged) accessLog.request(request, secured.status, started);
    return secured;
  };
  const finish = (request: Request, route: string, started: number, logged: boolean, res: Response) => {
    const clean = redactResponse(res, secrets);
    return clean instanceof Promise
      ? clean.then((done) => secure(request, route, started, logged, done))
      : secure(request, route, started, logged, clean);
  };
  // Stays synchronous when setup is done and the route answers synchronously: every request pays for
  // each await here, and most gateway routes can answer at once. Closures are made only on the
  // asynchronous paths.
  const answer = (request: Request, info: RequestInfo): Response | Promise<Response> => {
    const logged = accessLog.on();
    const started = observers.size || logged ? now() : 0;
    const { route, response } = router.handle(request, info);
    return response instanceof Promise
      ? response.then((res) => finish(request, route, started, logged, res), (error) => fail(request, error))
      : finish(request, route, started, logged, response);
  };

  return (request: Request, info: RequestInfo): Response | Promise<Response> => {
    try {
      return modules.complete()
        ? answer(request, info)
        : modules.setup().then(() => answer(request, info)).catch((error) => fail(request, error));
    } catch (error) {
      return fail(request, error);
    }
  };
}
