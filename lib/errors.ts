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
  code: string;
  message: string;
  details?: Record<string, unknown>;
  retryable?: boolean;
  retryAfterMs?: number;
}

/** An error a method handler throws to answer with a specific error frame. */
export class GatewayError extends Error {
  readonly code: string;
  readonly details?: Record<string, unknown>;
  readonly retryable?: boolean;
  readonly retryAfterMs?: number;

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
