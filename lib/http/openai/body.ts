/**
 * Reads and validates JSON request bodies of the `/v1/*` routes.
 *
 * @module
 */
import type { z } from "zod";
import { HttpError } from "./errors.ts";

/** The reference's built-in body cap for `/v1/*`. */
export const MAX_BODY_BYTES = 20 * 1024 * 1024;

/** Reads the body as JSON; too large → 413, not JSON → 400 with the parser's message (as the reference). */
export async function readJson(request: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (reader) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const text = new TextDecoder().decode(concat(chunks, size));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, error instanceof Error ? error.message : "request body is not JSON");
  }
}

/** Parses `value` with `schema`, turning the first issue into a 400 that names the field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.map(String).join(".");
  throw new HttpError(400, path ? `invalid ${path}: ${issue.message}` : issue.message);
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `request body is larger than ${maxBytes} bytes`);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
