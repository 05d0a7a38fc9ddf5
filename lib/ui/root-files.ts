/**
 * Reads files of a Control UI build on disk (`gateway.controlUi.root`) through `node:fs`, refusing every
 * path that leaves the root: `..` segments, absolute paths, NUL bytes, and symlinks whose target lies
 * outside. A layer adapter: the runner hands it to `controlUiModule({ rootFiles })`, so the root entry
 * point's graph stays free of `node:` modules.
 *
 * @module
 */
import { readFile, realpath, stat } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { insideRoot, pathInsideRoot, type RootFile, type RootFileMiss, type UiRootFiles } from "./root-ui.ts";

/** The Control UI root on the local file system. */
export const nodeUiRootFiles: UiRootFiles = { realRoot, read: readRootFile };

/** The root's real path, or undefined when it does not exist. */
async function realRoot(root: string): Promise<string | undefined> {
  try {
    return await realpath(resolve(root));
  } catch {
    return undefined;
  }
}

/**
 * Reads `relative` (already URL-decoded) under the real root `rootReal`. Symlinks inside the root
 * are followed only while their target stays inside it.
 */
async function readRootFile(rootReal: string, relative: string): Promise<RootFile | RootFileMiss> {
  const normal = pathInsideRoot(relative);
  if (normal === undefined) return "outside";
  let real: string;
  try {
    real = await realpath(resolve(rootReal, normal));
  } catch {
    return "missing";
  }
  if (!insideRoot(rootReal, real, sep)) return "outside";
  try {
    const info = await stat(real);
    if (!info.isFile()) return "missing";
    const bytes = await readFile(real);
    const body = new Uint8Array(new ArrayBuffer(bytes.byteLength));
    body.set(bytes);
    return { body, path: normal, mtimeMs: info.mtimeMs };
  } catch {
    return "missing";
  }
}
