/**
 * Reads the CLI's config for the operator commands. They must keep working when the file is missing
 * or broken (that is when people run them), so a bad file becomes a report, never a throw.
 *
 * @module
 */
import type { GatewayConfig } from "../../../lib/config/schema.ts";
import { validateAuthoredConfig } from "../../../lib/config/unknown-keys.ts";
import { fileConfigSource } from "../../config/file-source.ts";

/** What the operator commands know about the config file. */
export interface CliConfigReport {
  path: string;
  exists: boolean;
  /** Parsed and valid. A missing file is valid (defaults apply). */
  valid: boolean;
  /** The validated config, or `{}` when the file is missing or invalid. */
  config: GatewayConfig;
  /** The authored config when it parsed, even if it failed validation (doctor repairs from it). */
  raw?: Record<string, unknown>;
  /** One line per problem, each naming a dotted path or the parse error. */
  issues: string[];
  warnings: string[];
}

/** Loads `path` through the runner's config source (JSON5, `$include`, `${ENV}`). */
export async function readCliConfig(
  path: string,
  env: Record<string, string | undefined>,
): Promise<CliConfigReport> {
  let snapshot;
  try {
    snapshot = await fileConfigSource(path, { env }).load();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { path, exists: true, valid: false, config: {}, issues: [message], warnings: [] };
  }
  if (!snapshot.exists) return { path, exists: false, valid: true, config: {}, issues: [], warnings: [] };
  const result = validateAuthoredConfig(snapshot.raw);
  const warnings = [...snapshot.warnings, ...result.warnings];
  if (!result.ok) {
    return {
      path,
      exists: true,
      valid: false,
      config: {},
      raw: snapshot.raw,
      issues: result.issues.map((issue) => `${issue.path}: ${issue.message}`),
      warnings,
    };
  }
  return {
    path,
    exists: true,
    valid: true,
    config: result.config,
    raw: snapshot.raw,
    issues: [],
    warnings,
  };
}
