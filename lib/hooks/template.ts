/**
 * `{{path}}` templates for hook mappings: `{{messages[0].subject}}` reads from the payload. Missing
 * values render as empty strings; objects render as JSON.
 *
 * @module
 */

/** Whether `template` reads anything from the payload. */
export function isTemplated(template: string): boolean {
  return /\{\{.+?\}\}/.test(template);
}

/**
 * Renders `template` against `payload`.
 *
 * @example
 * ```ts
 * import { renderTemplate } from "@openclaw-ts/gateway";
 *
 * const text = renderTemplate("New mail: {{messages[0].subject}}{{missing}}", { messages: [{ subject: "Hi" }] });
 * if (text !== "New mail: Hi") throw new Error(text);
 * ```
 */
export function renderTemplate(template: string, payload: unknown): string {
  return template.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (_, path: string) => {
    const value = lookup(payload, path);
    if (value === undefined || value === null) return "";
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  });
}

function lookup(payload: unknown, path: string): unknown {
  let current = payload;
  for (const part of path.replace(/\[(\d+)\]/g, ".$1").split(".").filter(Boolean)) {
    if (current === null || typeof current !== "object") return undefined;
    if (!Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
