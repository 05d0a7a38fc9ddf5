/**
 * Reads request bodies with a size cap and a deadline: the one body reader of every route that takes a
 * body (`/v1/*`, `/tools/invoke`, hooks, channel webhooks). Routes check credentials first, then call it.
 *
 * @module
 */

const MESSAGES = {
  400: "request body could not be read (malformed chunked encoding or the client went away)",
  408: "request body timeout",
  413: "request body too large",
};

/** Why a body was not read: broken on the wire (400), too slow to arrive (408) or larger than allowed (413). */
export class BodyLimitError extends Error {
  constructor(readonly status: 400 | 408 | 413) {
    super(MESSAGES[status]);
  }
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
export async function readBodyText(request: Request, maxBytes: number, timeoutMs: number): Promise<string> {
  if (declaredTooLarge(request, maxBytes)) throw new BodyLimitError(413);
  const reader = request.body?.getReader();
  if (!reader) return "";
  const parts: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BodyLimitError(408)), timeoutMs);
  });
  try {
    for (;;) {
      const { value, done } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw new BodyLimitError(413);
      parts.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    // A stream error is the client's doing (bad framing, hang-up), not the gateway's: answer it as such.
    throw error instanceof BodyLimitError ? error : new BodyLimitError(400);
  } finally {
    clearTimeout(timer);
  }
  return new TextDecoder().decode(parts.length === 1 ? parts[0] : concat(parts, size));
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
