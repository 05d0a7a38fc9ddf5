/**
 * Errors of the OpenAI-compatible routes in OpenAI's shape, `{ error: { message, type, code? } }`, with
 * the status a client of the OpenAI API expects. Never a stack trace.
 *
 * @module
 */
import { GatewayError } from "../../errors.ts";
import { UpstreamError } from "../../providers/upstream-error.ts";
import { BodyError } from "../read-body.ts";
import { jsonResponse } from "../response.ts";

/** An error that already knows its HTTP status and OpenAI error type. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = "invalid_request_error",
    readonly code?: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** An OpenAI-style error response. */
export function openAiError(status: number, message: string, type: string, code?: string): Response {
  const error: Record<string, string> = { message, type };
  if (code) error.code = code;
  return jsonResponse({ error }, status);
}

/** The OpenAI error body for `error` (used in responses and in mid-stream SSE error events). */
export function errorBody(
  error: unknown,
): { status: number; error: { message: string; type: string; code?: string } } {
  if (error instanceof HttpError) {
    return {
      status: error.status,
      error: withCode({ message: error.message, type: error.type }, error.code),
    };
  }
  if (error instanceof BodyError) {
    return { status: error.status, error: { message: error.message, type: "invalid_request_error" } };
  }
  if (error instanceof UpstreamError) {
    if (error.failure === "unsupported") {
      return { status: 400, error: { message: error.message, type: "invalid_request_error" } };
    }
    return {
      status: error.failure === "timeout" ? 504 : 502,
      error: { message: error.message, type: "api_error" },
    };
  }
  if (error instanceof GatewayError) {
    if (error.code === "FORBIDDEN") {
      return { status: 403, error: { message: error.message, type: "forbidden" } };
    }
    if (error.code === "AGENT_TIMEOUT") {
      return { status: 504, error: { message: error.message, type: "api_error" } };
    }
    if (error.code === "INVALID_REQUEST" || error.code === "NOT_FOUND") {
      return { status: 400, error: { message: error.message, type: "invalid_request_error" } };
    }
    // Worth retrying as it is (the shared state store is away, a queue is full): what OpenAI clients back off on.
    if (error.code === "UNAVAILABLE" && error.retryable) {
      return { status: 503, error: { message: error.message, type: "api_error", code: "unavailable" } };
    }
    return { status: 502, error: { message: error.message, type: "api_error" } };
  }
  return { status: 500, error: { message: "internal error; see the gateway log", type: "api_error" } };
}

/** An error response for anything a handler threw. */
export function errorResponse(error: unknown): Response {
  const { status, error: body } = errorBody(error);
  const retryAfterMs = error instanceof GatewayError && status === 503 ? error.retryAfterMs : undefined;
  const headers: Record<string, string> = retryAfterMs === undefined
    ? {}
    : { "Retry-After": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
  return jsonResponse({ error: body }, status, headers);
}

function withCode(error: { message: string; type: string }, code?: string) {
  return code ? { ...error, code } : error;
}
