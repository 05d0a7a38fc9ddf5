/**
 * Param validation for the agent and session methods: the first problem becomes an
 * `INVALID_REQUEST` that names the field.
 *
 * @module
 */
import type { z } from "zod";
import { invalidParams } from "../errors.ts";

/** Parses `params` (absent params count as `{}`) or throws naming the first bad path. */
export function parseParams<T>(schema: z.ZodType<T>, method: string, params: unknown): T {
  const result = schema.safeParse(params ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.map(String).join(".");
  throw invalidParams(method, path ? `${path}: ${issue.message}` : issue.message);
}
