/**
 * Client-side failures, sorted into the few kinds an operator command reacts to differently.
 *
 * @module
 */
import { type ErrorShape, GatewayError } from "../errors.ts";

/**
 * What went wrong, from the caller's point of view:
 * `unreachable` (no socket), `timeout`, `auth` (credentials refused), `pairing` (device approval needed),
 * `rejected` (connect refused for another reason, e.g. protocol), `closed` (socket dropped),
 * `protocol` (the peer did not speak v4), `rpc` (a method answered with an error).
 */
export type ClientErrorKind =
  | "unreachable"
  | "timeout"
  | "auth"
  | "pairing"
  | "rejected"
  | "closed"
  | "protocol"
  | "rpc";

/** A failure seen by the gateway client. `code` is the wire code for `rpc`/`auth`, else a client code. */
export class GatewayClientError extends GatewayError {
  /** How the failure looks to the caller, which decides the reaction (retry, prompt for a token, give up). */
  readonly kind: ClientErrorKind;

  /** Makes a client error of `kind` with the given wire or client `code`. */
  constructor(
    kind: ClientErrorKind,
    code: string,
    message: string,
    extra: { details?: Record<string, unknown>; retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(code, message, extra);
    this.name = "GatewayClientError";
    this.kind = kind;
  }
}

const AUTH_DETAIL_CODES = /^(AUTH_|DEVICE_AUTH_)/;

/** Classifies a failed `connect` response. */
export function connectFailure(error: ErrorShape | undefined, url: string): GatewayClientError {
  const shape = error ?? { code: "UNAVAILABLE", message: "connect refused without a reason" };
  const detailCode = typeof shape.details?.code === "string" ? shape.details.code : "";
  const extra = { details: shape.details, retryable: shape.retryable, retryAfterMs: shape.retryAfterMs };
  if (detailCode === "PAIRING_REQUIRED") {
    return new GatewayClientError("pairing", shape.code, `${url}: ${shape.message}`, extra);
  }
  const isAuth = AUTH_DETAIL_CODES.test(detailCode) || shape.code === "UNAUTHORIZED" ||
    /^unauthorized/i.test(shape.message);
  if (isAuth) {
    const hint = detailCode === "AUTH_RATE_LIMITED"
      ? "wait before retrying"
      : "check --token/--password, OPENCLAW_GATEWAY_TOKEN/OPENCLAW_GATEWAY_PASSWORD or gateway.auth.* in the config";
    return new GatewayClientError(
      "auth",
      shape.code,
      `gateway auth failed at ${url}: ${shape.message} (${hint})`,
      extra,
    );
  }
  return new GatewayClientError(
    "rejected",
    shape.code,
    `gateway refused the connection at ${url}: ${shape.message}`,
    extra,
  );
}

/** Wraps an error frame from a method call. */
export function rpcFailure(method: string, error: ErrorShape | undefined): GatewayClientError {
  const shape = error ?? { code: "UNAVAILABLE", message: "no error details" };
  return new GatewayClientError("rpc", shape.code, `${method} failed: ${shape.message}`, {
    details: shape.details,
    retryable: shape.retryable,
    retryAfterMs: shape.retryAfterMs,
  });
}
