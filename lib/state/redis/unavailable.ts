/**
 * The one place where "Redis cannot be reached" becomes an answer: every command the Redis stores send
 * that fails for want of a server (connection refused or lost, client offline or closed, a server still
 * loading its data) rejects with a retryable `UNAVAILABLE` {@link GatewayError} naming Redis, which the
 * WebSocket error frame, the run's error and the HTTP routes (503) all pass on as it is. Errors the server
 * answered (a wrong type, a script error) stay what they are: retrying would not help.
 *
 * @module
 */
import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ErrorReply,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from "redis";
import { GatewayError } from "../../errors.ts";

/** What a client is told to wait before retrying: about how long the client takes to reconnect. */
export const REDIS_RETRY_AFTER_MS = 1_000;

/** `details.code` of the error, for clients that tell store outages from other `UNAVAILABLE`s. */
export const REDIS_UNAVAILABLE = "REDIS_UNAVAILABLE";

/** Server replies that mean "not now" rather than "never": loading after a restart, a failover, a busy script. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)\b/;

/** The client's own errors for a connection that is not there (or went away with the command). */
const CONNECTION_ERRORS = [
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
];

/** Socket errors (`node:net` codes) a command can fail with while the server is away. */
const SOCKET_CODES =
  /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/;

/** Whether `error` (from a command) means the server cannot serve it now. */
export function isRedisUnreachable(error: unknown): boolean {
  if (error instanceof ErrorReply) return TRANSIENT_REPLY.test(error.message);
  if (CONNECTION_ERRORS.some((type) => error instanceof type)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && SOCKET_CODES.test(code);
}

/** The error a caller gets when Redis cannot serve a command. */
export function redisUnavailable(cause: unknown): GatewayError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new GatewayError(
    "UNAVAILABLE",
    `Redis (the gateway's shared state) is unreachable: ${reason}; retry shortly`,
    { retryable: true, retryAfterMs: REDIS_RETRY_AFTER_MS, details: { code: REDIS_UNAVAILABLE } },
  );
}

/**
 * `client` with every command's failure mapped by {@link isRedisUnreachable}. The stores reach Redis only
 * through it, so a command added later cannot forget the mapping.
 */
export function guardedClient<T extends object>(client: T): T {
  return new Proxy(client, {
    get(target, property) {
      // The client keeps private fields: its methods must run on the client itself, not on the proxy.
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result: unknown = Reflect.apply(value, target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((error: unknown) => {
          throw isRedisUnreachable(error) ? redisUnavailable(error) : error;
        });
      };
    },
  });
}
