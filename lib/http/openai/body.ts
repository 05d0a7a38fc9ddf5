/**
 * Reads and validates JSON request bodies of the `/v1/*` routes.
 *
 * @module
 */
import type { z } from "zod";
import { BodyLimitError, readBodyText } from "../read-body.ts";
import { HttpError } from "./errors.ts";

/** The reference's built-in body cap for `/v1/*`. */
export const MAX_BODY_BYTES = 20 * 1024 * 1024;

/**
 * Reads the body as JSON; too large → 413, not complete within `timeoutMs` (`gateway.limits.bodyTimeoutMs`)
 * → 408, not JSON → 400 with the parser's message (as the reference).
 */
export async function readJson(
  request: Request,
  timeoutMs: number,
  maxBytes = MAX_BODY_BYTES,
): Promise<unknown> {
  let text: string;
  try {
    text = await readBodyText(request, maxBytes, timeoutMs);
  } catch (error) {
    if (!(error instanceof BodyLimitError)) throw error;
    if (error.status === 400) throw new HttpError(400, error.message);
    if (error.status === 408) {
      throw new HttpError(
        408,
        `request body did not arrive within ${timeoutMs} ms (gateway.limits.bodyTimeoutMs)`,
      );
    }
    throw tooLarge(maxBytes);
  }
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
