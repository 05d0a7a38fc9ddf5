/**
 * The state dir holds credentials (config, device tokens), transcripts and logs, so nothing under it
 * may be readable by group or others: directories 0700, files 0600 (the owner's execute bit is kept,
 * so a script in an agent workspace still runs). The gateway tightens the state dir itself at start;
 * `openclaw doctor --fix` tightens everything beneath it.
 *
 * @module
 */
import { join } from "../cli/paths.ts";

/** A path under the state dir that group or others can reach. */
export interface LoosePath {
  path: string;
  mode: number;
  directory: boolean;
}

/** The mode a path is tightened to: the owner's bits only. */
export function privateMode(mode: number): number {
  return mode & 0o700;
}

function posix(): boolean {
  return (globalThis as { Deno?: { build: { os: string } } }).Deno?.build.os !== "windows";
}

/**
 * Every file and directory under `root` (itself included) with group/other bits. Symlinks inside are
 * skipped (their targets may be anywhere); a symlinked root is followed.
 */
export async function findLoosePaths(root: string): Promise<LoosePath[]> {
  if (!posix()) return [];
  const found: LoosePath[] = [];
  const visit = async (path: string): Promise<void> => {
    let info;
    try {
      info = path === root ? await Deno.stat(path) : await Deno.lstat(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    if (info.isSymlink) return;
    const mode = info.mode! & 0o777;
    if (mode & 0o077) found.push({ path, mode, directory: info.isDirectory });
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(path)) await visit(join(path, entry.name));
    }
  };
  await visit(root);
  return found;
}

/** Drops group/other bits from each path. */
export async function tightenPaths(paths: readonly LoosePath[]): Promise<void> {
  for (const entry of paths) await Deno.chmod(entry.path, privateMode(entry.mode));
}

/** Makes an existing state dir private (not its contents: that walk is `doctor --fix`'s job). */
export async function tightenStateDir(stateDir: string): Promise<void> {
  if (!posix()) return;
  try {
    const mode = (await Deno.stat(stateDir)).mode! & 0o777;
    if (mode & 0o077) await Deno.chmod(stateDir, privateMode(mode));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
