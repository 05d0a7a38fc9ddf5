// Key paths of JSON values, for comparing result shapes with the reference's captures.

/** Every key path of `value`: `a.b`, array items as `a[].b` (merged over items). */
export function keyPaths(value: unknown, prefix = "", out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) keyPaths(item, `${prefix}[]`, out);
  } else if (value !== null && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.add(path);
      keyPaths(inner, path, out);
    }
  }
  return out;
}
