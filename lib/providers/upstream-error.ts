/**
 * Failures of a model provider, classified so HTTP can answer 502/504 and WS can answer `UNAVAILABLE` or
 * `AGENT_TIMEOUT` with a message that names the provider and what went wrong.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";

/** How an upstream call failed; `too_large` is a response cut off at one of the gateway's size limits. */
export type UpstreamFailure = "http" | "network" | "timeout" | "protocol" | "unsupported" | "too_large";

/**
 * Upstream error messages are cut to this many UTF-8 bytes: they reach the caller and the log, and an
 * upstream (or a proxy in front of it) can put megabytes into an error body.
 */
export const MAX_UPSTREAM_ERROR_BYTES = 4096;

/** A provider failure. `httpStatus` is the upstream's status when it answered. */
export class UpstreamError extends GatewayError {
  /** How the call failed; `timeout` answers `AGENT_TIMEOUT`, the rest `UNAVAILABLE`. */
  readonly failure: UpstreamFailure;
  /** Id of the provider that failed. */
  readonly provider: string;
  /** The upstream's HTTP status, when it answered at all. */
  readonly httpStatus?: number;

  /**
   * Makes an error whose message (cut to 4096 bytes) names `provider`; also sets
   * `details.provider`/`failure`.
   */
  constructor(provider: string, failure: UpstreamFailure, message: string, httpStatus?: number) {
    const details: Record<string, unknown> = { provider, failure };
    if (httpStatus !== undefined) details.httpStatus = httpStatus;
    super(
      failure === "timeout" ? "AGENT_TIMEOUT" : "UNAVAILABLE",
      capText(message, MAX_UPSTREAM_ERROR_BYTES),
      {
        details,
        // The same request would meet the same missing feature or the same oversized answer.
        retryable: failure !== "unsupported" && failure !== "too_large",
      },
    );
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

const TRUNCATED = " … (truncated)";
const encoder = new TextEncoder();

/** `text` cut to at most `maxBytes` UTF-8 bytes (marker included), never inside a character. */
export function capText(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const room = new Uint8Array(maxBytes);
  if (encoder.encodeInto(text, room).read === text.length) return text;
  const { read } = encoder.encodeInto(text, room.subarray(0, maxBytes - encoder.encode(TRUNCATED).length));
  return text.slice(0, read) + TRUNCATED;
}
