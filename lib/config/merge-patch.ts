/**
 * JSON merge patch (RFC 7396) for `config.patch`: objects merge key by key, `null` deletes, anything else
 * replaces. An array that would lose entries (shrunk or deleted) is refused unless its path is listed in
 * `replacePaths`, so a client working from a truncated snapshot cannot silently drop allowlist entries.
 *
 * @module
 */
import { isPlainObject } from "./source.ts";

/** The result of {@link applyMergePatch}: the merged value, or the array paths it refused to shrink. */
export type MergePatchResult =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; shrunkArrays: string[] };

/** Applies `patch` to a copy of `target`. `replacePaths` entries are dotted; `*` matches any one key. */
export function applyMergePatch(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
  replacePaths: readonly string[] = [],
): MergePatchResult {
  const shrunkArrays: string[] = [];
  const allowed = (path: string) => replacePaths.some((pattern) => pathMatches(pattern, path));
  const merge = (base: unknown, change: unknown, path: string): unknown => {
    if (!isPlainObject(change)) {
      if (Array.isArray(base) && (!Array.isArray(change) || change.length < base.length) && !allowed(path)) {
        shrunkArrays.push(path);
      }
      return structuredClone(change);
    }
    const out: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
    for (const [key, value] of Object.entries(change)) {
      const child = path ? `${path}.${key}` : key;
      if (value === null) {
        if (Array.isArray(out[key]) && !allowed(child)) shrunkArrays.push(child);
        delete out[key];
      } else {
        out[key] = merge(out[key], value, child);
      }
    }
    return out;
  };
  const value = merge(target, patch, "") as Record<string, unknown>;
  return shrunkArrays.length ? { ok: false, shrunkArrays } : { ok: true, value };
}

function pathMatches(pattern: string, path: string): boolean {
  const want = pattern.replace(/\[\]/g, ".*").split(".");
  const have = path.split(".");
  return want.length === have.length && want.every((part, i) => part === "*" || part === have[i]);
}
