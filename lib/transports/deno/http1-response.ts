/**
 * Writes a fetch `Response` as HTTP/1.1: one write with Content-Length when the body is already whole (a
 * string, bytes, a clone of either), chunked with backpressure when it streams (SSE flushes each event).
 *
 * @module
 */
import { writeAll } from "./read-buffer.ts";

const REASONS: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  422: "Unprocessable Content",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Headers the engine frames itself; a handler's copies would contradict the framing. */
const FRAMING = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);
// deno-lint-ignore no-control-regex -- the complement of ASCII
const NON_ASCII = /[^\x00-\x7f]/;
const encoder = new TextEncoder();
const TERMINATOR = encoder.encode("0\r\n\r\n");

let dateValue = "";
let dateAt = 0;

/** The `date` header value, rebuilt at most once a second. */
function httpDate(): string {
  const now = Date.now();
  if (now - dateAt >= 1000) {
    dateAt = now - (now % 1000);
    dateValue = new Date(dateAt).toUTCString();
  }
  return dateValue;
}

/** The status line and header block (with its final CRLF) as one string. */
export function headText(status: number, headers: Headers | undefined, framing: string): string {
  let text = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\n`;
  headers?.forEach((value, name) => {
    if (!FRAMING.has(name)) text += `${name}: ${value}\r\n`;
  });
  return `${text}date: ${httpDate()}\r\n${framing}\r\n`;
}

/** `text` followed by `body` in one buffer, header bytes taken as Latin-1 (fetch's ByteString). */
export function withHead(text: string, body?: Uint8Array): Uint8Array {
  const bodyLength = body?.length ?? 0;
  if (!NON_ASCII.test(text)) {
    const out = new Uint8Array(text.length + bodyLength);
    encoder.encodeInto(text, out);
    if (body) out.set(body, text.length);
    return out;
  }
  const out = new Uint8Array(text.length + bodyLength);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  if (body) out.set(body, text.length);
  return out;
}

/** A short plain-text answer that ends the connection (malformed requests, refused upgrades). */
export function closingAnswer(status: number, message: string, headers?: Headers): Uint8Array {
  const body = encoder.encode(message);
  const framing = `content-length: ${body.length}\r\nconnection: close\r\n`;
  const type = headers?.has("content-type") ? "" : "content-type: text/plain; charset=utf-8\r\n";
  return withHead(headText(status, headers, type + framing), body);
}

/** Resolves "pending" after a few microtask turns: enough for an already-whole body's next read. */
function soon(): Promise<"pending"> {
  return Promise.resolve().then(() => Promise.resolve()).then(() => "pending");
}

/** How {@link writeResponse} should frame the answer. */
export interface ResponseFraming {
  /** The request was HEAD: headers only. */
  headOnly: boolean;
  /** Say `connection: close` (the connection ends after this response). */
  close: boolean;
  /** Say `connection: keep-alive` when not closing: an HTTP/1.0 peer keeps the connection only if told. */
  keepAlive?: boolean;
  /** HTTP/1.0 peer: a streamed answer is sent unframed and ended by closing the connection. */
  unchunked?: boolean;
  /** Registers what to do when the peer hangs up: a stream still being produced is cancelled. */
  onHangup?: (cancel: () => void) => void;
}

/**
 * Writes `response`; true when all of it reached the socket. A peer that goes away mid-stream cancels
 * the body, which aborts whatever produces it.
 */
export async function writeResponse(
  conn: Deno.Conn,
  response: Response,
  framing: ResponseFraming,
): Promise<boolean> {
  const status = response.status;
  const connection = framing.close
    ? "connection: close\r\n"
    : framing.keepAlive
    ? "connection: keep-alive\r\n"
    : "";
  const bodiless = status === 204 || status === 304 || status < 200;
  if (!response.body || bodiless) {
    response.body?.cancel().catch(() => {});
    const length = bodiless ? "" : "content-length: 0\r\n";
    return await write(conn, withHead(headText(status, response.headers, length + connection)));
  }
  const reader = response.body.getReader();
  try {
    const first = await reader.read();
    const secondRead = first.done ? undefined : reader.read();
    const second = secondRead ? await Promise.race([secondRead, soon()]) : first;
    if (second !== "pending" && second.done) {
      const body = first.value;
      const length = `content-length: ${body?.length ?? 0}\r\n`;
      const head = headText(status, response.headers, length + connection);
      return await write(conn, withHead(head, framing.headOnly ? undefined : body));
    }
    const unchunked = framing.unchunked === true;
    const frame = unchunked ? (bytes: Uint8Array) => bytes : chunk;
    const streamFraming = unchunked ? "connection: close\r\n" : "transfer-encoding: chunked\r\n" + connection;
    const head = headText(status, response.headers, streamFraming);
    if (framing.headOnly) {
      reader.cancel().catch(() => {});
      return await write(conn, withHead(head));
    }
    const opening = first.value!.length ? withHead(head, frame(first.value!)) : withHead(head);
    if (!await write(conn, opening)) return cancel(reader);
    // A peer gone while the body waits for its next chunk (an idle SSE stream) is noticed here, not at
    // the next write, which may never come.
    framing.onHangup?.(() => void reader.cancel().catch(() => {}));
    let pending = secondRead;
    for (;;) {
      const { done, value } = await (pending ?? reader.read());
      pending = undefined;
      // Unchunked, only closing the connection ends the answer: report it as not reusable.
      if (done) return !unchunked && await write(conn, TERMINATOR);
      if (value.length && !await write(conn, frame(value))) return cancel(reader);
    }
  } catch {
    // The body failed mid-way: the client must not take a truncated answer for a whole one.
    return cancel(reader);
  }
}

function cancel(reader: ReadableStreamDefaultReader<Uint8Array>): false {
  reader.cancel().catch(() => {});
  return false;
}

/** `bytes` framed as one chunk. */
function chunk(bytes: Uint8Array): Uint8Array {
  const size = `${bytes.length.toString(16)}\r\n`;
  const out = new Uint8Array(size.length + bytes.length + 2);
  encoder.encodeInto(size, out);
  out.set(bytes, size.length);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

async function write(conn: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
  try {
    await writeAll(conn, bytes);
    return true;
  } catch {
    return false;
  }
}
