/**
 * Strict HTTP/1.1 request-head parsing: the request line and header fields of one request, with the
 * framing decisions (Content-Length or chunked, keep-alive, upgrade) made once, here. Anything a lenient
 * peer could read differently from us (both framing headers, conflicting lengths, obs-fold, bare CR/LF)
 * is refused, so a proxy in front cannot be desynchronised from the gateway.
 *
 * @module
 */
import type { ReadBuffer } from "./read-buffer.ts";

/**
 * The largest request head taken (request line and headers). Node allows 16 KiB, Deno.serve (hyper)
 * about 400 KiB; 32 KiB leaves room for large cookies and still bounds what an idle peer can make us hold.
 */
export const MAX_HEAD_BYTES = 32 * 1024;

/** A parsed request head. */
export interface RequestHead {
  /** The method token as sent. */
  method: string;
  /** The request target as sent (origin-form, absolute-form or `*`). */
  target: string;
  /** The header fields in order, names lower-cased. */
  fields: [string, string][];
  /** The Host header, if sent. */
  host: string | undefined;
  /** Body length when framed by Content-Length; `-1` when chunked. */
  bodyLength: number;
  /** Whether the connection may carry another request after this one. */
  keepAlive: boolean;
  /** `Expect: 100-continue` was sent. */
  expectContinue: boolean;
  /** `Upgrade: websocket` was asked for. */
  upgrade: boolean;
  /** An HTTP/1.0 request: its answer cannot be chunked. */
  http10: boolean;
}

/** A head that cannot be served: the status to answer before closing. */
export interface HeadError {
  /** 400 malformed, 431 too large, 501 an unsupported transfer coding. */
  status: 400 | 431 | 501;
  /** Said in the answer's body. */
  reason: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Methods a proxy's rules may name: the same letters in another case would slip past them (400). */
const STANDARD_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
]);
const TARGET = /^[\x21-\x7e]+$/;
/**
 * Field values (and chunk-size and trailer lines): visible ASCII, obs-text, SP and HT only; any other
 * control byte (bare CR or LF included) is refused.
 */
// deno-lint-ignore no-control-regex -- matching control characters is the point
export const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
// deno-lint-ignore no-control-regex -- the complement of ASCII
const NON_ASCII = /[^\x00-\x7f]/;
const DECIMAL = /^\d{1,15}$/;
const HOST = /^[A-Za-z0-9.\-_~%!$&'()*+,;=:\[\]]*$/;

const utf8 = new TextDecoder();

/** Header bytes as a string, byte for byte (obs-text as Latin-1, as fetch's ByteString expects). */
function headText(bytes: Uint8Array): string {
  const text = utf8.decode(bytes);
  if (!NON_ASCII.test(text)) return text;
  let latin1 = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    latin1 += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return latin1;
}

/**
 * Waits for a complete head in `input` and consumes it. `null` when the peer closes before sending one
 * (an idle keep-alive connection ending); a {@link HeadError} for a head that is too big or malformed.
 */
export async function readHead(input: ReadBuffer): Promise<RequestHead | HeadError | null> {
  let searched = 0;
  for (;;) {
    // Empty lines before a request line are tolerated (RFC 9112 §2.2).
    while (input.available >= 2 && input.buf[input.start] === 13 && input.buf[input.start + 1] === 10) {
      input.skip(2);
      searched = 0;
    }
    const from = Math.max(input.start, input.start + searched - 3);
    const at = input.buf.subarray(0, input.end).indexOf(13, from);
    const endOfHead = findHeadEnd(input.buf, at, input.end);
    if (endOfHead >= 0) {
      const bytes = input.buf.subarray(input.start, endOfHead);
      input.skip(endOfHead + 4 - input.start);
      return parseHead(headText(bytes));
    }
    searched = input.available;
    if (searched > MAX_HEAD_BYTES) return { status: 431, reason: "request header fields too large" };
    // Bytes that cannot begin a request line (a method is a token) are refused now, not at the deadline.
    if (!methodPrefixValid(input.buf, input.start, input.end)) return bad("malformed request line");
    if (!await input.fill(MAX_HEAD_BYTES + 1024)) {
      return input.available ? { status: 400, reason: "incomplete request head" } : null;
    }
  }
}

/** Token characters (RFC 9110 §5.6.2), by byte. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

/** Whether the bytes up to the first space (or all of them, if none yet) can be a method. */
function methodPrefixValid(buf: Uint8Array, start: number, end: number): boolean {
  // A lone CR may be the first half of a tolerated empty line.
  if (end - start === 1 && buf[start] === 13) return true;
  for (let i = start; i < end; i++) {
    if (buf[i] === 32) return i > start;
    if (!TCHAR[buf[i]]) return false;
  }
  return true;
}

/** The offset of the CRLFCRLF ending the head, searching from the CR at `at`, or -1. */
function findHeadEnd(buf: Uint8Array, at: number, end: number): number {
  while (at >= 0 && at + 3 < end) {
    if (buf[at + 1] === 10 && buf[at + 2] === 13 && buf[at + 3] === 10) return at;
    at = buf.indexOf(13, at + 1);
    if (at >= end) return -1;
  }
  return -1;
}

/** Parses a head (without its final CRLFCRLF). */
export function parseHead(text: string): RequestHead | HeadError {
  const lines = text.split("\r\n");
  const parts = lines[0].split(" ");
  if (parts.length !== 3) return bad("malformed request line");
  const [method, target, version] = parts;
  if (!TOKEN.test(method) || !TARGET.test(target)) return bad("malformed request line");
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") return bad("unsupported HTTP version");
  const upper = method.toUpperCase();
  if (upper !== method && STANDARD_METHODS.has(upper)) return bad("method not in upper case");
  const head: RequestHead = {
    method,
    target,
    fields: [],
    host: undefined,
    bodyLength: 0,
    keepAlive: version === "HTTP/1.1",
    expectContinue: false,
    upgrade: false,
    http10: version === "HTTP/1.0",
  };
  let contentLength: string | undefined;
  let chunked = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    // A line starting with whitespace is obs-fold; whitespace before the colon is refused too.
    if (colon <= 0) return bad("malformed header field");
    const name = line.slice(0, colon).toLowerCase();
    const value = trimmed(line, colon + 1);
    if (!TOKEN.test(name) || BAD_VALUE.test(value)) return bad("malformed header field");
    head.fields.push([name, value]);
    const error = applyField(head, name, value, version);
    if (error) return error;
    if (name === "content-length") {
      if (!DECIMAL.test(value) || (contentLength !== undefined && contentLength !== value)) {
        return bad("invalid Content-Length");
      }
      contentLength = value;
    } else if (name === "transfer-encoding") {
      if (chunked || value.toLowerCase() !== "chunked") {
        return { status: 501, reason: "unsupported Transfer-Encoding" };
      }
      chunked = true;
    }
  }
  if (chunked && contentLength !== undefined) return bad("both Content-Length and Transfer-Encoding");
  if (chunked && version === "HTTP/1.0") return bad("chunked body in HTTP/1.0");
  if (head.host === undefined && version === "HTTP/1.1") return bad("missing Host");
  head.bodyLength = chunked ? -1 : Number(contentLength ?? 0);
  return head;
}

/** Applies the fields that steer the connection; an error for a refused value. */
function applyField(head: RequestHead, name: string, value: string, version: string): HeadError | undefined {
  switch (name) {
    case "host":
      if (head.host !== undefined || !HOST.test(value)) return bad("invalid Host");
      head.host = value;
      return;
    case "connection": {
      const tokens = value.toLowerCase();
      if (/(^|[\s,])close($|[\s,])/.test(tokens)) head.keepAlive = false;
      else if (version === "HTTP/1.0" && /(^|[\s,])keep-alive($|[\s,])/.test(tokens)) head.keepAlive = true;
      return;
    }
    case "expect":
      if (value.toLowerCase() === "100-continue") head.expectContinue = true;
      return;
    case "upgrade":
      if (value.toLowerCase() === "websocket") head.upgrade = true;
      return;
  }
}

/** `line` from `from`, without leading and trailing SP/HT (optional whitespace around a field value). */
function trimmed(line: string, from: number): string {
  let end = line.length;
  while (from < end && (line.charCodeAt(from) === 32 || line.charCodeAt(from) === 9)) from++;
  while (end > from && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
  return line.slice(from, end);
}

function bad(reason: string): HeadError {
  return { status: 400, reason };
}
