/**
 * Finds keys in an authored config that no schema knows. The section schemas stay loose (so a config
 * embedded by an app may carry its own sections), and this layer walks them at runtime to learn the
 * known keys: a key added to a section schema is known here without a second list. Keys the OpenClaw
 * reference gateway knows but this gateway does not implement are reported apart, as warnings, so a config
 * shared with the reference still loads.
 *
 * @module
 */
import type { z } from "zod";
import { REFERENCE_ONLY_KEYS } from "./reference-keys.ts";
import { type ConfigIssue, type ConfigValidation, GatewayConfigSchema, validateConfig } from "./schema.ts";

/** A key no schema knows, with the nearest known sibling when one is close. */
export interface UnknownKey {
  /** Dotted path of the object holding the key, `(root)` at the top. */
  parent: string;
  /** The same path as segments (a record key may itself hold a dot). */
  parentPath: string[];
  key: string;
  suggestion?: string;
}

/** What {@link findUnknownKeys} found. */
export interface UnknownKeyReport {
  unknown: UnknownKey[];
  /** Dotted paths of keys the reference gateway knows and this one ignores. */
  referenceOnly: string[];
}

/** The part of a zod v4 schema's internals the walk reads. */
interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  getter?: () => z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
}

function defOf(schema: z.ZodType): ZodDef {
  return (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
}

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional"]);
/** Catchalls that let any key through without saying what it holds: loose objects. */
const OPEN_CATCHALLS = new Set(["unknown", "any"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Where a walk is, and what it reports into: `path` leads to the value, `pattern` is the same path with `*`
 * for record keys and array indexes.
 */
interface Walk {
  path: string[];
  pattern: string[];
  report: UnknownKeyReport;
  referenceKeys: ReadonlySet<string>;
}

/** One step down: into `key`, which the pattern names as `patternKey`. */
function into(at: Walk, key: string, patternKey = key): Walk {
  return { ...at, path: [...at.path, key], pattern: [...at.pattern, patternKey] };
}

/** Walks `value` against `schema`. */
function walk(schema: z.ZodType, value: unknown, at: Walk): void {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type)) return walk(def.innerType!, value, at);
  if (def.type === "pipe") return walk(def.in!, value, at);
  if (def.type === "lazy") return walk(def.getter!(), value, at);
  if (def.type === "intersection") return walkIntersection(def, value, at);
  if (def.type === "union") return walkUnion(def, value, at);
  if (def.type === "array" && Array.isArray(value)) {
    value.forEach((item, i) => walk(def.element!, item, into(at, String(i), "*")));
    return;
  }
  if (def.type === "record" && isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) walk(def.valueType!, item, into(at, key, "*"));
    return;
  }
  if (def.type === "object" && isPlainObject(value)) walkObject(def, value, at);
}

function walkIntersection(def: ZodDef, value: unknown, at: Walk): void {
  // Both sides see the same object; a key is unknown only when neither knows it.
  const left = emptyReport();
  const right = emptyReport();
  walk(def.left!, value, { ...at, report: left });
  walk(def.right!, value, { ...at, report: right });
  const known = (u: UnknownKey, other: UnknownKeyReport) =>
    other.unknown.some((o) => o.parent === u.parent && o.key === u.key);
  at.report.unknown.push(...left.unknown.filter((u) => known(u, right)));
  at.report.referenceOnly.push(...new Set([...left.referenceOnly, ...right.referenceOnly]));
}

function walkUnion(def: ZodDef, value: unknown, at: Walk): void {
  // The option that fits best (fewest unknown keys) is the one the author meant.
  const tries = def.options!.map((option) => {
    const attempt = emptyReport();
    walk(option, value, { ...at, report: attempt });
    return attempt;
  });
  const best = tries.reduce((a, b) => (b.unknown.length < a.unknown.length ? b : a));
  at.report.unknown.push(...best.unknown);
  at.report.referenceOnly.push(...best.referenceOnly);
}

function walkObject(def: ZodDef, value: Record<string, unknown>, at: Walk): void {
  const { path, pattern, report, referenceKeys } = at;
  const shape = def.shape ?? {};
  const catchall = def.catchall ? defOf(def.catchall).type : undefined;
  for (const [key, item] of Object.entries(value)) {
    // Own keys only: `constructor` or `__proto__` in a config must not find Object's members.
    const child = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (child) {
      walk(child, item, into(at, key));
    } else if (catchall && !OPEN_CATCHALLS.has(catchall) && catchall !== "never") {
      walk(def.catchall!, item, into(at, key));
    } else if (
      referenceKeys.has([...pattern, key].join(".")) || referenceKeys.has([...pattern, "*"].join(".")) ||
      coveredByReference(pattern, referenceKeys)
    ) {
      report.referenceOnly.push([...path, key].join("."));
    } else {
      const suggestion = nearestKey(key, Object.keys(shape));
      report.unknown.push({
        parent: path.join(".") || "(root)",
        parentPath: path,
        key,
        ...(suggestion ? { suggestion } : {}),
      });
    }
  }
}

/**
 * Whether the object at `pattern` sits inside a section the reference knows as a whole (`tools`,
 * `gateway.tls`, `channels.*`): keys this gateway implements there are checked, the reference's others only
 * warned about, so implementing part of a section never makes a config shared with the reference fail.
 */
function coveredByReference(pattern: string[], referenceKeys: ReadonlySet<string>): boolean {
  for (let i = 1; i <= pattern.length; i++) {
    const prefix = pattern.slice(0, i);
    if (referenceKeys.has(prefix.join(".")) || referenceKeys.has([...prefix.slice(0, -1), "*"].join("."))) {
      return true;
    }
  }
  return false;
}

function emptyReport(): UnknownKeyReport {
  return { unknown: [], referenceOnly: [] };
}

/** Lists the keys of `raw` that `schema` does not know (by default the whole `openclaw.json`). */
export function findUnknownKeys(
  raw: unknown,
  schema: z.ZodType = GatewayConfigSchema,
  referenceKeys: ReadonlySet<string> = REFERENCE_ONLY_KEYS,
): UnknownKeyReport {
  const report = emptyReport();
  walk(schema, raw, { path: [], pattern: [], report, referenceKeys });
  return report;
}

/**
 * Edit distance counting a swap of two neighbours as one edit (the commonest typo, `modle`), and
 * case-insensitive (a key differing only in case is a typo too).
 */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d = Array.from(
    { length: x.length + 1 },
    (_, i) => Array.from({ length: y.length + 1 }, (_, j) => i || j),
  );
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[x.length][y.length];
}

/** The closest candidate within a typo's reach (a third of the key's length, at least one edit). */
export function nearestKey(key: string, candidates: string[]): string | undefined {
  const reach = Math.max(1, Math.floor(key.length / 3));
  let best: { key: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(key, candidate);
    if (distance <= reach && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** How every unknown-key issue message starts. */
export const UNRECOGNIZED = "Unrecognized key";

/** One issue line for an unknown key, in the `path: message` shape of the other config issues. */
export function unknownKeyIssue(found: UnknownKey): ConfigIssue {
  const hint = found.suggestion ? ` (did you mean "${found.suggestion}"?)` : "";
  return { path: found.parent, message: `${UNRECOGNIZED} "${found.key}"${hint}` };
}

/** The warning naming keys the reference gateway knows and this one does not implement. */
export function referenceOnlyWarning(paths: string[]): string | undefined {
  if (!paths.length) return undefined;
  return `ignored (known to OpenClaw, not implemented by this gateway): ${paths.join(", ")}`;
}

/** The outcome of {@link validateAuthoredConfig}: the schema result plus warnings about ignored keys. */
export type AuthoredValidation = ConfigValidation & { warnings: string[] };

/**
 * Validates a config a person wrote (the file, a `config set`): the schema, and no unknown keys. Keys the
 * reference knows are accepted with a warning.
 */
export function validateAuthoredConfig(raw: unknown): AuthoredValidation {
  const schema = validateConfig(raw);
  const keys = findUnknownKeys(raw ?? {});
  const warning = referenceOnlyWarning(keys.referenceOnly);
  const warnings = warning ? [warning] : [];
  const issues = [...keys.unknown.map(unknownKeyIssue), ...(schema.ok ? [] : schema.issues)];
  if (issues.length) return { ok: false, issues, warnings };
  return { ...schema, warnings };
}
