/**
 * Path joining for a target OS that may differ from the one running the code (a Linux test writing a
 * Windows task wrapper, say).
 *
 * @module
 */

/** Joins path parts with `separator`, dropping duplicate separators between parts. */
export function joinWith(separator: "/" | "\\", ...parts: string[]): string {
  return parts
    .filter((part) => part !== "")
    .map((part, index) => {
      const trimmedEnd = part.replace(/[\\/]+$/, "");
      return index === 0 ? trimmedEnd || separator : trimmedEnd.replace(/^[\\/]+/, "");
    })
    .join(separator);
}
