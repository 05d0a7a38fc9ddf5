/**
 * One HTTP exchange with an upstream provider: applies the provider's timeout on top of the caller's
 * signal, and turns whatever goes wrong into an `UpstreamError` that says which provider failed and how.
 *
 * @module
 */
import { type TimeoutSignal, timeoutSignal } from "../timeout-signal.ts";
import type { FetchLike } from "./types.ts";
import { isAbort, UpstreamError, upstreamMessage } from "./upstream-error.ts";

/** Upstream calls give up after two minutes unless the provider sets `timeoutSeconds`. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 120_000;

/** A JSON `POST` with the provider's headers. */
export function jsonPost(headers: Record<string, string>, body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

/**
 * A single upstream request and the reading of its body. Dispose of it (`using`) once the body is read,
 * so its timer does not outlive the exchange.
 */
export class UpstreamCall implements Disposable {
  /** Aborts when the caller goes away or the timeout passes; use it for the whole body read. */
  readonly signal: AbortSignal;
  readonly #timeout: TimeoutSignal;

  constructor(
    private readonly provider: string,
    private readonly fetchImpl: FetchLike,
    caller: AbortSignal,
    private readonly timeoutMs: number = DEFAULT_UPSTREAM_TIMEOUT_MS,
  ) {
    this.#timeout = timeoutSignal(timeoutMs);
    this.signal = AbortSignal.any([caller, this.#timeout.signal]);
  }

  [Symbol.dispose](): void {
    this.#timeout.clear();
  }

  /** Sends the request; a non-2xx answer becomes an `UpstreamError` carrying the upstream's message. */
  async send(url: string, init: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetchImpl(url, { ...init, signal: this.signal });
    } catch (error) {
      throw this.translate(error);
    }
    if (!response.ok) {
      const body = await response.text().catch(() => "");
      throw new UpstreamError(
        this.provider,
        "http",
        `model provider '${this.provider}' answered HTTP ${response.status}: ${upstreamMessage(body)}`,
        response.status,
      );
    }
    return response;
  }

  /** Reads a JSON body, reporting a malformed one as a protocol failure. */
  async json<T>(response: Response): Promise<T> {
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.translate(error);
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.protocol(`sent a body that is not JSON: ${text.slice(0, 120)}`);
    }
  }

  /** A response that does not follow the provider's API. */
  protocol(what: string): UpstreamError {
    return new UpstreamError(this.provider, "protocol", `model provider '${this.provider}' ${what}`);
  }

  /**
   * Maps a thrown error: the caller's own abort passes through untouched (nobody is waiting for an
   * error), a timeout and network failures become `UpstreamError`s.
   */
  translate(error: unknown): unknown {
    if (error instanceof UpstreamError) return error;
    if (this.#timeout.signal.aborted) {
      return new UpstreamError(
        this.provider,
        "timeout",
        `model provider '${this.provider}' did not finish within ${Math.round(this.timeoutMs / 1000)} s`,
      );
    }
    if (isAbort(error) || this.signal.aborted) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new UpstreamError(
      this.provider,
      "network",
      `cannot reach model provider '${this.provider}': ${reason}`,
    );
  }
}
