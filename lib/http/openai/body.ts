/**
 * Reads and validates JSON request bodies of the `/v1/*` routes.
 *
 * @module
 */
import type { z } from "zod";
import { readJsonBody } from "../read-body.ts";
import { HttpError } from "./errors.ts";

/** The reference's built-in body cap for `/v1/*`. */
export const MAX_BODY_BYTES = 20 * 1024 * 1024;

/**
 * Reads the body as JSON; too large → 413, not complete within `timeoutMs` (`gateway.limits.bodyTimeoutMs`)
 * → 408, not JSON → 400 with the parser's message (as the reference). Refusals are {@link BodyError}s.
 */
export function readJson(request: Request, timeoutMs: number, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  return readJsonBody(request, {
    maxBytes,
    timeoutMs,
    words: {
      tooLarge: `request body is larger than ${maxBytes} bytes`,
      tooSlow: `request body did not arrive within ${timeoutMs} ms (gateway.limits.bodyTimeoutMs)`,
    },
  });
}

/** Parses `value` with `schema`, turning the first issue into a 400 that names the field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.map(String).join(".");
  throw new HttpError(400, path ? `invalid ${path}: ${issue.message}` : issue.message);
}
