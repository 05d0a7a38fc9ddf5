/**
 * The reinstall rule every installer shares: the same definition again is a no-op, a different one
 * is replaced only with `--force`, so a stale service is never retargeted by accident.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import { parseEnvFile } from "./env-file.ts";
import type { InstalledService, ServiceFiles } from "./types.ts";

/** How a freshly rendered definition relates to what is on disk. */
export type DefinitionChange = "new" | "same" | "changed";

/** Compares `rendered` with the file at `path`; throws on a change without `force`. */
export async function compareDefinition(
  files: ServiceFiles,
  path: string,
  rendered: string,
  force: boolean,
): Promise<DefinitionChange> {
  const existing = await files.readText(path);
  if (existing === undefined) return "new";
  if (existing === rendered) return "same";
  if (!force) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `${path} already exists with a different definition; run \`openclaw gateway install --force\` to replace it.`,
    );
  }
  return "changed";
}

/** What a definition parser reads back: argv, inline environment, and the env files it loads. */
export interface ParsedDefinition {
  programArguments: string[];
  environment: Record<string, string>;
  envFiles: string[];
}

/** Reads and parses the definition at `path`, folding in its env files' variables (for drift checks). */
export async function readInstalledDefinition(
  files: ServiceFiles,
  path: string,
  parse: (text: string) => ParsedDefinition,
): Promise<InstalledService | undefined> {
  const text = await files.readText(path);
  if (text === undefined) return undefined;
  const parsed = parse(text);
  const environment = { ...parsed.environment };
  for (const file of parsed.envFiles) {
    Object.assign(environment, parseEnvFile(await files.readText(file) ?? ""));
  }
  return { path, programArguments: parsed.programArguments, environment };
}
