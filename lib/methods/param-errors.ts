/**
 * Param errors in the reference gateway's words. OpenClaw validates params with JSON Schema (ajv, all
 * errors) and answers `INVALID_REQUEST` with `invalid <method> params: <problems>`, the problems joined
 * by `; `: `must have required property 'sessionKey'`, `at root: unexpected property 'x'`,
 * `at /limit: must be <= 5000`. Clients and scripts match on those phrases, so zod's issues are told
 * the same way.
 *
 * @module
 */
import type { z } from "zod";
import { type GatewayError, invalidParams } from "../errors.ts";

/** Parses `params` (absent params count as `{}`) or throws `INVALID_REQUEST` in the reference's wording. */
export function parseMethodParams<S extends z.ZodType>(method: string, schema: S, params: unknown): z.output<S> {
  const input = params ?? {};
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw paramsError(method, result.error, input);
}

/** The `INVALID_REQUEST` error for params that failed `schema`. */
export function paramsError(method: string, error: z.ZodError, input: unknown): GatewayError {
  return invalidParams(method, describeParamIssues(error.issues, input));
}

/** Every issue as the reference words it, required and unexpected properties first, without repeats. */
export function describeParamIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string {
  const parts = issues.flatMap((issue) => describeIssue(issue, input));
  // ajv checks an object's required, then additional, then nested properties.
  parts.sort((a, b) => a.rank - b.rank);
  const unique = [...new Set(parts.map((part) => part.text))];
  return unique.length ? unique.join("; ") : "unknown validation error";
}

interface Part {
  text: string;
  rank: number;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): Part[] {
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const where = path.length ? `at ${pointer(path)}` : "at root";
    return issue.keys.map((key) => ({ text: `${where}: unexpected property '${key}'`, rank: path.length ? 2 : 1 }));
  }
  const parent = path.slice(0, -1);
  if (issue.code === "invalid_type" && path.length && isMissing(input, path)) {
    const text = `${where(parent)}must have required property '${path.at(-1)}'`;
    return [{ text, rank: parent.length ? 2 : 0 }];
  }
  return [{ text: `${where(path)}${problem(issue)}`, rank: 2 }];
}

/** JSON pointer, as ajv's `instancePath`. */
function pointer(path: readonly string[]): string {
  return path.map((segment) => `/${segment.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

function where(path: readonly string[]): string {
  return path.length ? `at ${pointer(path)}: ` : "";
}

/** Whether the object holding the last segment lacks that key (a missing property, not a wrong one). */
function isMissing(input: unknown, path: readonly string[]): boolean {
  let node = input;
  for (const segment of path.slice(0, -1)) {
    if (typeof node !== "object" || node === null) return false;
    node = (node as Record<string, unknown>)[segment];
  }
  return typeof node === "object" && node !== null && !Array.isArray(node) &&
    !Object.hasOwn(node, path.at(-1)!);
}

const TYPE_NAMES: Record<string, string> = { int: "integer", record: "object", map: "object", tuple: "array" };

/** ajv's message for one failed keyword. */
function problem(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "too_small":
      return bound(issue.origin, issue.minimum, issue.inclusive, "fewer", ">");
    case "too_big":
      return bound(issue.origin, issue.maximum, issue.inclusive, "more", "<");
    case "invalid_value":
      return issue.values.length === 1 ? "must be equal to constant" : "must be equal to one of the allowed values";
    case "invalid_union":
      return "must match a schema in anyOf";
    case "invalid_format":
      return issue.format === "regex" && "pattern" in issue
        ? `must match pattern "${issue.pattern}"`
        : `must match format "${issue.format}"`;
    case "not_multiple_of":
      return `must be multiple of ${issue.divisor}`;
    default:
      return issue.message;
  }
}

function bound(
  origin: string,
  limit: number | bigint,
  inclusive: boolean | undefined,
  count: "fewer" | "more",
  compare: ">" | "<",
): string {
  if (origin === "string") return `must NOT have ${count} than ${limit} characters`;
  if (origin === "array" || origin === "set") return `must NOT have ${count} than ${limit} items`;
  return `must be ${compare}${inclusive ? "=" : ""} ${limit}`;
}
