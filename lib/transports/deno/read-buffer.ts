/**
 * One connection's input: a growable buffer over a `Deno.Conn` with at most one read in flight, shared by
 * the HTTP parser, request bodies and the WebSocket frame reader that take turns on the same bytes.
 *
 * @module
 */

/** Bytes read from a connection and not yet consumed. */
export class ReadBuffer {
  /** The bytes; `start` to `end` are unconsumed. */
  buf: Uint8Array;
  /** The first unconsumed byte. */
  start = 0;
  /** One past the last byte read. */
  end = 0;
  /** The peer has finished sending (or the connection failed). */
  eof = false;
  #reading: Promise<boolean> | undefined;
  readonly #conn: Deno.Conn;
  readonly #onEof: () => void;

  /** `onEof` runs once, when the peer stops sending or the connection fails. */
  constructor(conn: Deno.Conn, onEof: () => void, initialBytes = 4096) {
    this.#conn = conn;
    this.#onEof = onEof;
    this.buf = new Uint8Array(initialBytes);
  }

  /** Unconsumed bytes. */
  get available(): number {
    return this.end - this.start;
  }

  /**
   * Reads more bytes behind the unconsumed ones, growing the buffer up to `maxBytes` of unconsumed data.
   * False at end of input. Concurrent callers share the one read in flight.
   */
  fill(maxBytes = 64 * 1024): Promise<boolean> {
    if (this.#reading) return this.#reading;
    if (this.eof) return Promise.resolve(false);
    this.#makeRoom(maxBytes);
    this.#reading = this.#conn.read(this.buf.subarray(this.end)).then(
      (n) => this.#settle(n),
      () => this.#settle(null),
    );
    return this.#reading;
  }

  /** Consumes and copies up to `max` bytes (the copy outlives buffer reuse). */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.available);
    const out = this.buf.slice(this.start, this.start + n);
    this.skip(n);
    return out;
  }

  /** Consumes `n` bytes. */
  skip(n: number): void {
    this.start += n;
    // A read in flight writes at the offset it started with: rewinding under it would misplace its bytes.
    if (this.start === this.end && !this.#reading) this.start = this.end = 0;
  }

  /**
   * Fills all of `out` from buffered bytes and then straight from the connection (large payloads skip
   * the buffer). False if input ends first. A pending {@link fill} lands first (its bytes come before).
   */
  async readInto(out: Uint8Array): Promise<boolean> {
    if (this.#reading) await this.#reading;
    let filled = Math.min(out.length, this.available);
    out.set(this.buf.subarray(this.start, this.start + filled));
    this.skip(filled);
    while (filled < out.length) {
      if (out.length - filled < 4096) {
        if (!await this.fill()) return false;
        const n = Math.min(out.length - filled, this.available);
        out.set(this.buf.subarray(this.start, this.start + n), filled);
        this.skip(n);
        filled += n;
        continue;
      }
      const n = await this.#conn.read(out.subarray(filled)).catch(() => null);
      if (n === null) return this.#settle(null);
      filled += n;
    }
    return true;
  }

  #settle(n: number | null): boolean {
    this.#reading = undefined;
    if (n === null) {
      if (!this.eof) {
        this.eof = true;
        this.#onEof();
      }
      return false;
    }
    this.end += n;
    return true;
  }

  #makeRoom(maxBytes: number): void {
    if (this.end < this.buf.length) return;
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      if (this.end < this.buf.length) return;
    }
    const grown = new Uint8Array(Math.min(this.buf.length * 2, Math.max(maxBytes, this.buf.length + 1)));
    grown.set(this.buf.subarray(0, this.end));
    this.buf = grown;
  }
}

/** Writes all of `bytes` (a `write` may take only part). */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(offset ? bytes.subarray(offset) : bytes);
}
