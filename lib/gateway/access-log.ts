/**
 * The access log (the `access` child logger): one line per HTTP request and one per closed socket,
 * unless `logging.accessLog` is false. Lines never carry a query string or a credential.
 *
 * @module
 */
import { pathOf } from "../http/router.ts";
import type { Logger } from "../log/logger.ts";
import type { Connection } from "../ws/connection.ts";
import type { GatewayCore } from "./core.ts";

/** Writes access-log lines; see the module doc. */
export interface AccessLog {
  /** Whether lines are written now (read per request, so a config reload takes effect at once). */
  on(): boolean;
  /** Records how `request` authenticated (`ok:<method>`, `refused`), for its access-log line. */
  noteAuth(request: Request, outcome: string): void;
  /** Logs an answered HTTP request; `started` is when it began, on the gateway's clock. */
  request(request: Request, status: number, started: number): void;
  /** Logs a closed socket: who, how it closed, and how long it lived. */
  disconnected(connection: Connection): void;
}

/**
 * The auth outcome rides on the request itself: a WeakMap entry per request cost ~0.7 µs and GC work on
 * every authenticated request, more than the rest of its access-log line.
 */
const AUTH_OUTCOME: unique symbol = Symbol("gateway http auth outcome");

type Noted = Request & { [AUTH_OUTCOME]?: string };

/** Creates the access log over the gateway's logger. */
export function createAccessLog(
  { state, now, logger }: Pick<GatewayCore, "state" | "now" | "logger">,
): AccessLog {
  const accessLog: Logger = logger.child("access");
  return {
    on: () => state.config.logging?.accessLog !== false,
    noteAuth(request, outcome) {
      (request as Noted)[AUTH_OUTCOME] = outcome;
    },
    request(request, status, started) {
      // The path only: a query string may carry a credential (`?token=`), and the log never does.
      accessLog.info("http request", {
        method: request.method,
        path: accessLogPath(request.url),
        status,
        durationMs: Math.round((now() - started) * 10) / 10,
        auth: (request as Noted)[AUTH_OUTCOME] ?? "none",
      });
    },
    disconnected(connection) {
      const { code, reason, by } = connection.closeInfo ?? {};
      accessLog.info("client disconnected", {
        connId: connection.connId,
        ...(connection.caller?.client ? { client: connection.caller.client.id } : {}),
        authenticated: Boolean(connection.caller),
        ...(code !== undefined ? { code } : {}),
        ...(reason ? { reason } : {}),
        ...(by ? { closedBy: by } : {}),
        durationMs: Math.round(now() - connection.challengeTs),
      });
    },
  };
}

/** Longest path an access-log line carries; a hostile client's 64 KiB path must not become a 64 KiB line. */
const ACCESS_LOG_PATH_MAX = 256;

/** The request path for the access log: no query string (it may hold a credential), bounded in length. */
function accessLogPath(url: string): string {
  const path = pathOf(url);
  return path.length > ACCESS_LOG_PATH_MAX ? `${path.slice(0, ACCESS_LOG_PATH_MAX)}…` : path;
}
