/**
 * A request body (Content-Length or chunked) read from the connection only when its consumer pulls, so
 * a route's bounded reader limits what is read off the socket, not just what it keeps.
 *
 * @module
 */
import { BAD_VALUE } from "./http1-parser.ts";
import type { ReadBuffer } from "./read-buffer.ts";

/** The longest chunk-size line (size plus extensions), and the largest trailer section, taken. */
const MAX_CHUNK_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;
const HEX = /^[0-9a-fA-F]{1,13}$/;
const latin1 = new TextDecoder("latin1");

/** Framing errors of a body (a chunked body that breaks its own grammar). */
export class BodyFramingError extends Error {}

/**
 * One request's body. `stream()` hands it to the handler; `drain()` discards what the handler left so
 * the connection can take its next request; `fail()` errors a pending read (shutdown, client gone).
 */
export class RequestBody {
  /** The whole body has been read off the connection. */
  done: boolean;
  #left: number;
  readonly #chunked: boolean;
  /** Chunked state: next is a size line, chunk data, the CRLF after data, or trailers. */
  #state: "size" | "data" | "crlf" | "trailers" = "size";
  #trailerBytes = 0;
  #failure: Error | undefined;
  /** A read failed (framing, peer gone): the connection cannot take another request. */
  #broken = false;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  readonly #input: ReadBuffer;
  readonly #beforeFirstRead: (() => Promise<void>) | undefined;

  /** `length` is the Content-Length, or -1 for chunked. `beforeFirstRead` sends `100 Continue`. */
  constructor(input: ReadBuffer, length: number, beforeFirstRead?: () => Promise<void>) {
    this.#input = input;
    this.#chunked = length < 0;
    this.#left = this.#chunked ? 0 : length;
    this.done = length === 0;
    this.#beforeFirstRead = beforeFirstRead;
  }

  /** The body as a pull-based stream (nothing is read ahead of the consumer). */
  stream(): ReadableStream<Uint8Array> {
    let first = true;
    return new ReadableStream<Uint8Array>({
      start: (controller) => void (this.#controller = controller),
      pull: async (controller) => {
        try {
          if (first && this.#beforeFirstRead && !this.done) await this.#beforeFirstRead();
          first = false;
          const chunk = await this.#next();
          // Failed meanwhile: the stream is already errored and the piece is dropped.
          if (this.#failure) return;
          if (chunk) controller.enqueue(chunk);
          else controller.close();
        } catch (error) {
          this.#broken = true;
          this.#failure ??= error instanceof Error ? error : new Error(String(error));
          controller.error(this.#failure);
        }
      },
    }, { highWaterMark: 0 });
  }

  /** Errors the stream's pending and future reads. */
  fail(error: Error): void {
    if (this.done || this.#failure) return;
    this.#failure = error;
    try {
      this.#controller?.error(error);
    } catch { /* already closed or errored */ }
  }

  /** Whether {@link drain} may succeed within `limit` (an unknown chunked rest is tried). */
  drainable(limit: number): boolean {
    return !this.#broken && (this.#chunked || this.#left <= limit);
  }

  /** Framed in chunks: how much is left is unknown until it is read. */
  get chunked(): boolean {
    return this.#chunked;
  }

  /**
   * Reads and discards the rest, up to `limit` bytes. True when the body ended within it (the connection
   * may take another request); false when it is longer, broken or the peer went away.
   */
  async drain(limit: number): Promise<boolean> {
    if (!this.drainable(limit)) return false;
    this.fail(new Error("request body abandoned"));
    let discarded = 0;
    try {
      while (!this.done) {
        const chunk = await this.#next();
        if (!chunk) break;
        discarded += chunk.length;
        if (discarded > limit) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** The next piece of the body, or null at its end. */
  async #next(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.done) return null;
      const input = this.#input;
      if (!this.#chunked || this.#state === "data") {
        if (input.available) {
          const piece = input.take(this.#left);
          this.#left -= piece.length;
          if (this.#left === 0) this.#chunked ? (this.#state = "crlf") : (this.done = true);
          return piece;
        }
      } else if (this.#chunkFraming()) continue;
      if (!await input.fill()) throw new Error("client closed the connection before the body ended");
    }
  }

  /** Consumes one framing element of a chunked body if it is buffered whole; false to read more. */
  #chunkFraming(): boolean {
    const input = this.#input;
    const buf = input.buf;
    if (this.#state === "crlf") {
      if (input.available < 2) return false;
      if (buf[input.start] !== 13 || buf[input.start + 1] !== 10) {
        throw new BodyFramingError("chunk not followed by CRLF");
      }
      input.skip(2);
      this.#state = "size";
      return true;
    }
    const limit = this.#state === "size" ? MAX_CHUNK_LINE : MAX_TRAILERS;
    const lf = buf.subarray(input.start, input.end).indexOf(10);
    if (lf < 0) {
      if (input.available > limit) throw new BodyFramingError("chunk framing line too long");
      return false;
    }
    if (lf === 0 || buf[input.start + lf - 1] !== 13) throw new BodyFramingError("bare LF in chunked body");
    const line = latin1.decode(buf.subarray(input.start, input.start + lf - 1));
    // A bare CR inside the line is read as a line end by some peers: refused, as in a header field.
    if (BAD_VALUE.test(line)) throw new BodyFramingError("control character in chunked body framing");
    input.skip(lf + 1);
    if (this.#state === "trailers") {
      // Trailer fields are read and dropped; the empty line ends the body.
      this.#trailerBytes += lf + 1;
      if (this.#trailerBytes > MAX_TRAILERS) throw new BodyFramingError("trailer section too large");
      if (line === "") this.done = true;
      return true;
    }
    const size = line.split(";")[0].replace(/[ \t]+$/, "");
    if (!HEX.test(size)) throw new BodyFramingError("invalid chunk size");
    this.#left = parseInt(size, 16);
    this.#state = this.#left === 0 ? "trailers" : "data";
    return true;
  }
}
