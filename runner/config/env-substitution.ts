/**
 * `${VAR}` substitution in config strings, as OpenClaw does it: only upper-case names, `$${VAR}` escapes to
 * a literal `${VAR}`, and an unset or empty variable stays as written and is reported (with the config
 * path) so the operator can see which value is unavailable.
 *
 * @module
 */
import { isPlainObject } from "../../lib/config/source.ts";

/** An unset variable referenced from the config. */
export interface MissingEnvVar {
  name: string;
  /** Dotted config path of the string that referenced it. */
  path: string;
}

const PLACEHOLDER = /\$?\$\{([A-Z_][A-Z0-9_]*)\}/g;

/** Replaces placeholders in every string of `value`; returns the new value and what was missing. */
export function substituteEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
): { value: unknown; missing: MissingEnvVar[] } {
  const missing: MissingEnvVar[] = [];
  const walk = (node: unknown, path: string[]): unknown => {
    if (typeof node === "string") {
      return node.replace(PLACEHOLDER, (match, name: string) => {
        if (match.startsWith("$$")) return match.slice(1);
        const found = env[name];
        if (found) return found;
        missing.push({ name, path: path.join(".") || "(root)" });
        return match;
      });
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, String(i)]));
    if (isPlainObject(node)) {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { value: walk(value, []), missing };
}

/** Whether a string still holds an unresolved `${VAR}` placeholder (a credential like that must not be used). */
export function hasUnresolvedPlaceholder(value: string): boolean {
  return /(^|[^$])\$\{[A-Z_][A-Z0-9_]*\}/.test(value);
}
