/**
 * Reads request bodies with a size cap and a deadline: the one body reader of every route that takes a
 * body (`/v1/*`, `/tools/invoke`, hooks, channel webhooks), and the two shapes their refusals take. The
 * router checks credentials first (a route's `auth`), so a body is read only for an admitted caller.
 *
 * @module
 */
import { jsonResponse } from "./response.ts";

const MESSAGES = {
  400: "request body could not be read (malformed chunked encoding or the client went away)",
  408: "request body timeout",
  413: "request body too large",
};

/**
 * Why a body was refused: broken on the wire or not JSON (400), too slow to arrive (408) or larger than
 * allowed (413). The message is the surface's wording (see {@link BodyWords}).
 */
export class BodyError extends Error {
  constructor(readonly status: 400 | 408 | 413, message?: string) {
    super(message ?? MESSAGES[status]);
  }
}

/**
 * How a surface words its refusals, as the reference words them there; each unset one keeps the reader's
 * own message (for `notJson`: the JSON parser's).
 */
export interface BodyWords {
  tooLarge?: string;
  tooSlow?: string;
  notJson?: string;
}

/** The limits of one body read. */
export interface BodyLimits {
  maxBytes: number;
  /** A body not complete by then is refused with 408 (`gateway.limits.bodyTimeoutMs`). */
  timeoutMs: number;
  words?: BodyWords;
}

/** Whether the declared `Content-Length` already exceeds `maxBytes` (refuse before reading a byte). */
function declaredTooLarge(request: Request, maxBytes: number): boolean {
  return Number(request.headers.get("content-length") ?? "0") > maxBytes;
}

/**
 * The body as text. Refuses more than `maxBytes`, declared or sent (chunked bodies are counted as they
 * stream), without buffering past the cap, and a body that has not fully arrived within `timeoutMs`;
 * on refusal the rest of the stream is cancelled, never read.
 */
export async function readBodyText(request: Request, limits: BodyLimits): Promise<string> {
  const { maxBytes, words } = limits;
  if (declaredTooLarge(request, maxBytes)) throw new BodyError(413, words?.tooLarge);
  const reader = request.body?.getReader();
  if (!reader) return "";
  const parts: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BodyError(408, words?.tooSlow)), limits.timeoutMs);
  });
  try {
    for (;;) {
      const { value, done } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw new BodyError(413, words?.tooLarge);
      parts.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    // A stream error is the client's doing (bad framing, hang-up), not the gateway's: answer it as such.
    throw error instanceof BodyError ? error : new BodyError(400);
  } finally {
    clearTimeout(timer);
  }
  return new TextDecoder().decode(parts.length === 1 ? parts[0] : concat(parts, size));
}

/**
 * The body parsed as JSON, read as {@link readBodyText} reads it; a body that is not JSON is a 400.
 * `empty`, when given, is what a blank body stands for.
 */
export async function readJsonBody(request: Request, limits: BodyLimits, empty?: unknown): Promise<unknown> {
  const text = await readBodyText(request, limits);
  if (empty !== undefined && !text.trim()) return empty;
  return parseJsonBody(text, limits.words);
}

/** `text` parsed as JSON, or a 400 {@link BodyError} worded by `words.notJson`. */
export function parseJsonBody(text: string, words?: BodyWords): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BodyError(400, words?.notJson ?? (error instanceof Error ? error.message : String(error)));
  }
}

/**
 * A refused body as the reference's shared HTTP helpers answer it (`/v1/*`, `/tools/invoke`):
 * `{error:{message,type:"invalid_request_error"}}`.
 */
export function bodyErrorResponse(error: BodyError): Response {
  return jsonResponse({ error: { message: error.message, type: "invalid_request_error" } }, error.status);
}

/** A refused body as hooks and channel webhooks answer it: `{ok:false,error}`. */
export function bodyRefusalResponse(error: BodyError): Response {
  return jsonResponse({ ok: false, error: error.message }, error.status);
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
