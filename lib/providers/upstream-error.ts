/**
 * Failures of a model provider, classified so HTTP can answer 502/504 and WS can answer `UNAVAILABLE` or
 * `AGENT_TIMEOUT` with a message that names the provider and what went wrong.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";

/** How an upstream call failed. */
export type UpstreamFailure = "http" | "network" | "timeout" | "protocol" | "unsupported";

/** A provider failure. `httpStatus` is the upstream's status when it answered. */
export class UpstreamError extends GatewayError {
  readonly failure: UpstreamFailure;
  readonly provider: string;
  readonly httpStatus?: number;

  constructor(provider: string, failure: UpstreamFailure, message: string, httpStatus?: number) {
    const details: Record<string, unknown> = { provider, failure };
    if (httpStatus !== undefined) details.httpStatus = httpStatus;
    super(failure === "timeout" ? "AGENT_TIMEOUT" : "UNAVAILABLE", message, {
      details,
      retryable: failure !== "unsupported",
    });
    this.name = "UpstreamError";
    this.failure = failure;
    this.provider = provider;
    this.httpStatus = httpStatus;
  }
}

/** Whether `error` is the abort of a caller's own signal (not a failure to report). */
export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && (error.name === "AbortError" || error.name === "TimeoutError") ||
    (error instanceof Error && error.name === "AbortError");
}

/** Pulls a readable message out of an upstream error body (OpenAI and Anthropic both use `error.message`). */
export function upstreamMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof parsed.error === "string") return parsed.error;
    if (typeof parsed.error?.message === "string") return parsed.error.message;
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.trim().slice(0, 300) || "(empty body)";
}
