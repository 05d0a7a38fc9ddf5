/**
 * Param errors in the reference gateway's words. OpenClaw validates params with JSON Schema (ajv, all
 * errors) and answers `INVALID_REQUEST` with `invalid <method> params: <problems>`, the problems joined
 * by `; `: `must have required property 'sessionKey'`, `at root: unexpected property 'x'`,
 * `at /limit: must be <= 5000`. Clients and scripts match on those phrases, so zod's issues are told
 * the same way.
 *
 * @module
 */
import * as z from "zod";
import { type GatewayError, invalidParams } from "../errors.ts";
import type { StandardSchemaIssue, StandardSchemaResult, StandardSchemaV1 } from "./standard-schema.ts";

/**
 * Parses `params` (absent params count as `{}`) or throws `INVALID_REQUEST`: in the reference's wording
 * for a zod schema, which answers synchronously; with the library's own messages for another Standard
 * Schema, which may answer asynchronously.
 */
export function parseMethodParams(
  method: string,
  schema: StandardSchemaV1,
  params: unknown,
): unknown | Promise<unknown> {
  const input = params ?? {};
  if (schema instanceof z.ZodType) {
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    throw paramsError(method, result.error, input);
  }
  const outcome = schema["~standard"].validate(input);
  return outcome instanceof Promise
    ? outcome.then((result) => standardOutcome(method, result))
    : standardOutcome(method, outcome);
}

function standardOutcome(method: string, result: StandardSchemaResult<unknown>): unknown {
  if (!result.issues) return result.value;
  const problems = [...new Set(result.issues.map(describeStandardIssue))];
  throw invalidParams(method, problems.join("; ") || "unknown validation error");
}

/** A Standard Schema issue as `at /path: message`, the shape of the reference's wording. */
function describeStandardIssue(issue: StandardSchemaIssue): string {
  const path = (issue.path ?? []).map((segment) =>
    String(typeof segment === "object" ? segment.key : segment)
  );
  return `${where(path)}${issue.message}`;
}

/** The `INVALID_REQUEST` error for params that failed `schema`. */
export function paramsError(method: string, error: z.ZodError, input: unknown): GatewayError {
  return invalidParams(method, describeParamIssues(error.issues, input));
}

/** Every issue as the reference words it, in ajv's order, without repeats. */
export function describeParamIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string {
  const parts = issues.flatMap((issue, index) => describeIssue(issue, input, index));
  // ajv walks an object's required, then additional, then each property in turn: an object's own
  // problems go just before the first problem found inside it (zod reports properties in schema order).
  const firstInside = (owner: readonly string[]) =>
    parts.find((part) => owner.every((segment, i) => part.path[i] === segment))!.index;
  const order = parts.map((part) => ({ part, at: part.owner ? firstInside(part.owner) : part.index }));
  order.sort((a, b) => a.at - b.at || a.part.kind - b.part.kind || a.part.index - b.part.index);
  const unique = [...new Set(order.map(({ part }) => part.text))];
  return unique.length ? unique.join("; ") : "unknown validation error";
}

/** One problem; `owner` is the object whose required/additional check it is (ajv reports those first). */
interface Part {
  text: string;
  path: readonly string[];
  index: number;
  kind: 0 | 1 | 2;
  owner?: readonly string[];
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, index: number): Part[] {
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const where = path.length ? `at ${pointer(path)}` : "at root";
    return issue.keys.map((key) => ({
      text: `${where}: unexpected property '${key}'`,
      path,
      index,
      kind: 1,
      owner: path,
    }));
  }
  const parent = path.slice(0, -1);
  if (issue.code === "invalid_type" && path.length && isMissing(input, path)) {
    const text = `${where(parent)}must have required property '${path.at(-1)}'`;
    return [{ text, path, index, kind: 0, owner: parent }];
  }
  return [{ text: `${where(path)}${problem(issue)}`, path, index, kind: 2 }];
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

const TYPE_NAMES: Record<string, string> = {
  int: "integer",
  record: "object",
  map: "object",
  tuple: "array",
};

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
      return issue.values.length === 1
        ? "must be equal to constant"
        : "must be equal to one of the allowed values";
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
