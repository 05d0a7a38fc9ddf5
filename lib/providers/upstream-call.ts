/**
 * One HTTP exchange with an upstream provider: applies the provider's timeout on top of the caller's
 * signal, bounds what the upstream may send, and turns whatever goes wrong into an `UpstreamError` that
 * says which provider failed and how.
 *
 * @module
 */
import { type TimeoutSignal, timeoutSignal } from "../timeout-signal.ts";
import { readSse, type SseEvent } from "./sse.ts";
import type { FetchLike } from "./types.ts";
import { isAbort, UpstreamError, upstreamMessage } from "./upstream-error.ts";

/** Upstream calls give up after two minutes unless the provider sets `timeoutSeconds`. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 120_000;
/** A response body (a whole stream included) may be this large unless the provider sets `maxResponseBytes`. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** How much of an error body is read to find its message; the rest is never read. */
const ERROR_BODY_READ_BYTES = 64 * 1024;

/** A JSON `POST` with the provider's headers. */
export function jsonPost(headers: Record<string, string>, body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

/** What bounds one call besides the caller's signal. */
export interface UpstreamLimits {
  timeoutMs?: number;
  maxResponseBytes?: number;
}

/**
 * A single upstream request and the reading of its body. Dispose of it (`using`) once the body is read,
 * so its timer does not outlive the exchange.
 */
export class UpstreamCall implements Disposable {
  /** Aborts when the caller goes away, the timeout passes or a limit is hit; use it for the whole body read. */
  readonly signal: AbortSignal;
  readonly #timeout: TimeoutSignal;
  /** Cuts the connection when the upstream sends more than the limits allow. */
  readonly #refused = new AbortController();
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  #answered = false;

  constructor(
    private readonly provider: string,
    private readonly fetchImpl: FetchLike,
    caller: AbortSignal,
    limits: UpstreamLimits = {},
  ) {
    this.#timeoutMs = limits.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
    this.#maxBytes = limits.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#timeout = timeoutSignal(this.#timeoutMs);
    this.signal = AbortSignal.any([caller, this.#timeout.signal, this.#refused.signal]);
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
    this.#answered = true;
    if (!response.ok) {
      const body = await this.#head(response, ERROR_BODY_READ_BYTES).catch(() => "");
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
    let text = "";
    try {
      const reader = this.#body(response).pipeThrough(new TextDecoderStream()).getReader();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += chunk.value;
    } catch (error) {
      throw this.translate(error);
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.protocol(`sent a body that is not JSON: ${text.slice(0, 120)}`);
    }
  }

  /**
   * The events of a streamed answer. An answer that is plainly not an event stream (an HTML page from a
   * proxy, a JSON error with status 200) is reported with what it said instead.
   */
  async events(response: Response): Promise<AsyncGenerator<SseEvent>> {
    const type = response.headers.get("content-type")?.split(";")[0].trim().toLowerCase() ?? "";
    if (type === "text/html" || type === "application/json" || type.endsWith("+json")) {
      const said = upstreamMessage(await this.#head(response, ERROR_BODY_READ_BYTES).catch(() => ""));
      throw this.protocol(`answered a streaming request with ${type} instead of an event stream: ${said}`);
    }
    return readSse(
      this.#body(response),
      (limit) => this.#refuse(`sent a stream line longer than ${sizeText(limit)} without a line break`),
    );
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
        `model provider '${this.provider}' did not finish within ${Math.round(this.#timeoutMs / 1000)} s`,
      );
    }
    if (isAbort(error) || this.signal.aborted) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new UpstreamError(
      this.provider,
      "network",
      this.#answered
        ? `model provider '${this.provider}' broke off its answer: ${reason}`
        : `cannot reach model provider '${this.provider}': ${reason}`,
    );
  }

  /** The body, counted as it arrives: past the byte limit the call is cut off and the read fails. */
  #body(response: Response): ReadableStream<Uint8Array> {
    const tooLarge = () => this.#refuse(`sent more than ${sizeText(this.#maxBytes)}`, "maxResponseBytes");
    if (Number(response.headers.get("content-length")) > this.#maxBytes) {
      response.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    if (!response.body) throw this.protocol("sent an empty body");
    let seen = 0;
    const maxBytes = this.#maxBytes;
    return response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > maxBytes) throw tooLarge();
          controller.enqueue(chunk);
        },
      }),
    );
  }

  /** Up to `limit` bytes of the body as text; the rest is left unread and the connection released. */
  async #head(response: Response, limit: number): Promise<string> {
    if (!response.body) return "";
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      while (size < limit) {
        const { value, done } = await reader.read();
        if (done) break;
        chunks.push(value);
        size += value.byteLength;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    return new TextDecoder().decode(bytes.subarray(0, limit));
  }

  /** Cuts the connection and names the limit that was hit (and the config key that sets it, if any). */
  #refuse(what: string, configKey?: string): UpstreamError {
    this.#refused.abort();
    const raise = configKey
      ? ` (raise models.providers.${this.provider}.${configKey} if that is legitimate)`
      : "";
    return new UpstreamError(
      this.provider,
      "too_large",
      `model provider '${this.provider}' ${what}; the answer was cut off${raise}`,
    );
  }
}

function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0
    ? `${bytes / (1024 * 1024)} MiB`
    : bytes % 1024 === 0
    ? `${bytes / 1024} KiB`
    : `${bytes} bytes`;
}
