/**
 * Resolves provider credentials written the ways OpenClaw accepts them: a plain string, `${ENV_VAR}`
 * text, or an env SecretRef `{ source: "env", id }`. Other SecretRef sources are resolved by the runner
 * before the config reaches the core; an unresolved one counts as no key.
 *
 * @module
 */

/** The credential `value` stands for, or undefined when there is none. */
export function resolveSecret(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (typeof value === "string") {
    const resolved = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? "");
    return resolved || undefined;
  }
  if (value && typeof value === "object") {
    const ref = value as { source?: unknown; id?: unknown };
    if (ref.source === "env" && typeof ref.id === "string") return env[ref.id] || undefined;
  }
  return undefined;
}
