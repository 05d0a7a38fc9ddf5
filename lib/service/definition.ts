/**
 * The reinstall rule every installer shares: the same definition again is a no-op, a different one
 * is replaced only with `--force`, so a stale service is never retargeted by accident.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import type { ServiceFiles } from "./types.ts";

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
