/**
 * The doctor check for config keys no schema knows (typos like `gatway` or `auth.tokn`). `--fix` removes
 * them from the authored file; the atomic writer keeps the previous text as `.bak` first.
 *
 * @module
 */
import { findUnknownKeys, unknownKeyIssue } from "../../../lib/config/unknown-keys.ts";
import { isPlainObject } from "../../../lib/config/source.ts";
import { repairConfigFile } from "../../config/config-writer.ts";
import type { CliConfigReport } from "./config.ts";
import type { DoctorFinding } from "./doctor.ts";

/** A finding with its repair. */
export interface RepairableFinding extends DoctorFinding {
  fix?: () => Promise<void>;
}

/** Removes the dotted `paths` that exist in the authored root (keys from `$include` files are left alone). */
function removePaths(root: Record<string, unknown>, paths: string[][]): void {
  for (const parts of paths) {
    let node: unknown = root;
    for (const part of parts.slice(0, -1)) node = isPlainObject(node) ? node[part] : undefined;
    if (isPlainObject(node)) delete node[parts.at(-1)!];
  }
}

/** Reports unknown keys; undefined when there are none. */
export function unknownKeysCheck(config: CliConfigReport, writable: boolean): RepairableFinding | undefined {
  if (!config.raw) return undefined;
  const unknown = findUnknownKeys(config.raw).unknown;
  if (!unknown.length) return undefined;
  const listed = unknown.map((u) => {
    const issue = unknownKeyIssue(u);
    return `${issue.path}: ${issue.message}`;
  });
  return {
    id: "config-unknown-keys",
    status: "error",
    message: `${config.path} has keys no gateway setting uses: ${listed.join("; ")}`,
    ...(writable
      ? {
        repair: `remove ${unknown.length} unknown key(s) (the previous file is kept as ${config.path}.bak)`,
        fix: () =>
          repairConfigFile(config.path, (root) =>
            removePaths(root, unknown.map((u) => [...u.parentPath, u.key]))),
      }
      : {}),
  };
}
