/**
 * The runner's Control UI root on disk (`gateway.controlUi.root`) through Deno's file API, so the
 * gateway path loads no `node:` module. Same rules as the library's `node:fs` adapter: every path that
 * leaves the root (`..`, absolute paths, NUL bytes, symlinks whose target lies outside) is refused.
 *
 * @module
 */
import {
  insideRoot,
  pathInsideRoot,
  type RootFile,
  type RootFileMiss,
  type UiRootFiles,
} from "../../lib/ui/root-ui.ts";
import { resolve } from "../cli/paths.ts";

/** The Control UI root on the local file system, read with `Deno.*`. */
export const denoUiRootFiles: UiRootFiles = { realRoot, read: readRootFile };

async function realRoot(root: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(resolve(root));
  } catch {
    return undefined;
  }
}

async function readRootFile(rootReal: string, relative: string): Promise<RootFile | RootFileMiss> {
  const normal = pathInsideRoot(relative);
  if (normal === undefined) return "outside";
  let real: string;
  try {
    real = await Deno.realPath(resolve(rootReal, normal));
  } catch {
    return "missing";
  }
  if (!insideRoot(rootReal, real)) return "outside";
  try {
    const info = await Deno.stat(real);
    if (!info.isFile) return "missing";
    return { body: await Deno.readFile(real), path: normal, mtimeMs: info.mtime?.getTime() ?? 0 };
  } catch {
    return "missing";
  }
}
