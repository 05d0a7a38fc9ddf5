/**
 * Errors that cross the wire. Every error carries a stable `code` that clients branch on,
 * and a `message` a person can act on.
 *
 * @module
 */

/** Top-level error codes used by OpenClaw Gateway protocol v4. */
export type ErrorCode =
  | "INVALID_REQUEST"
  | "FORBIDDEN"
  | "UNAVAILABLE"
  | "NOT_FOUND"
  | "UNAUTHORIZED"
  | "INTERNAL"
  | "AGENT_TIMEOUT";

/** The error object placed in `res.error`. */
export interface ErrorShape {
  /** Stable machine-readable code, usually an {@link ErrorCode}, that clients branch on. */
  code: string;
  /** What went wrong, for a person to read. */
  message: string;
  /** Extra structured facts, such as a finer `details.code`. */
  details?: Record<string, unknown>;
  /** Whether the same request may succeed if sent again later. */
  retryable?: boolean;
  /** How long to wait before retrying, in milliseconds. */
  retryAfterMs?: number;
}

/** An error a method handler throws to answer with a specific error frame. */
export class GatewayError extends Error {
  /** Stable machine-readable code sent as `error.code`, usually an {@link ErrorCode}. */
  readonly code: string;
  /** Extra structured facts sent as `error.details`. */
  readonly details?: Record<string, unknown>;
  /** Whether the caller may retry the same request later. */
  readonly retryable?: boolean;
  /** Suggested wait before a retry, in milliseconds. */
  readonly retryAfterMs?: number;

  /** Makes an error answered as `{ code, message, ...extra }`. */
  constructor(
    code: ErrorCode | string,
    message: string,
    extra: { details?: Record<string, unknown>; retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "GatewayError";
    this.code = code;
    this.details = extra.details;
    this.retryable = extra.retryable;
    this.retryAfterMs = extra.retryAfterMs;
  }

  /** The wire form, with optional fields left out when unset. */
  toShape(): ErrorShape {
    const shape: ErrorShape = { code: this.code, message: this.message };
    if (this.details) shape.details = this.details;
    if (this.retryable !== undefined) shape.retryable = this.retryable;
    if (this.retryAfterMs !== undefined) shape.retryAfterMs = this.retryAfterMs;
    return shape;
  }
}

/** Turns anything thrown by a handler into an error shape without leaking a stack trace. */
export function toErrorShape(err: unknown): ErrorShape {
  if (err instanceof GatewayError) return err.toShape();
  return { code: "UNAVAILABLE", message: "internal error; see the gateway log", retryable: true };
}

/** The error for a caller lacking a scope; keeps the legacy message text clients fall back to. */
export function missingScope(scope: string, required: string[] = [scope]): GatewayError {
  return new GatewayError("FORBIDDEN", `missing scope: ${scope}`, {
    details: { code: "MISSING_SCOPE", missingScope: scope, requiredScopes: required },
  });
}

/** The error for params that fail validation; names the first offending path. */
export function invalidParams(method: string, issue: string): GatewayError {
  return new GatewayError("INVALID_REQUEST", `invalid ${method} params: ${issue}`);
}
