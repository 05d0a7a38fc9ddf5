/**
 * Reads request bodies with a size cap (and optionally a deadline), for every route that takes one.
 *
 * @module
 */

/** Why a body was not read: larger than allowed (413) or too slow to arrive (408). */
export class BodyLimitError extends Error {
  constructor(readonly status: 413 | 408) {
    super(status === 413 ? "request body too large" : "request body timeout");
  }
}

/**
 * The body as text. Refuses more than `maxBytes`, declared or sent, without buffering past the cap, and
 * with `timeoutMs` a body that has not fully arrived by then; the rest of the stream is cancelled.
 */
export async function readBodyText(request: Request, maxBytes: number, timeoutMs?: number): Promise<string> {
  if (Number(request.headers.get("content-length") ?? "0") > maxBytes) throw new BodyLimitError(413);
  const reader = request.body?.getReader();
  if (!reader) return "";
  const parts: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = timeoutMs === undefined ? undefined : new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BodyLimitError(408)), timeoutMs);
  });
  try {
    for (;;) {
      const { value, done } = await (deadline ? Promise.race([reader.read(), deadline]) : reader.read());
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw new BodyLimitError(413);
      parts.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
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
