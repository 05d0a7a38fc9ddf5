/**
 * The owner-only env file that carries the service's secrets, so they never appear inline in a unit,
 * plist or task definition.
 *
 * @module
 */
import type { ServiceFiles } from "./types.ts";

/** `KEY=value` lines; values are single-line by construction of the variables we write. */
export function renderEnvFile(variables: Record<string, string>): string {
  const lines = Object.entries(variables).map(([key, value]) => `${key}=${value.replace(/\r?\n/g, " ")}`);
  return `# Written by openclaw gateway install; readable by the owner only.\n${lines.join("\n")}\n`;
}

/** Parses `KEY=value` lines, ignoring comments and blank lines. */
export function parseEnvFile(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match) variables[match[1]] = match[2];
  }
  return variables;
}

/** Writes (or, with no secrets, removes) the env file with mode 0600 inside a 0700 folder. */
export async function syncEnvFile(
  files: ServiceFiles,
  folder: string,
  path: string,
  secrets: Record<string, string>,
): Promise<void> {
  if (Object.keys(secrets).length === 0) return await files.remove(path);
  await files.mkdir(folder, 0o700);
  await files.chmod(folder, 0o700);
  await files.writeText(path, renderEnvFile(secrets), { mode: 0o600 });
}
