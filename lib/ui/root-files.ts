/**
 * Reads files of a Control UI build on disk (`gateway.controlUi.root`), refusing every path that
 * leaves the root: `..` segments, absolute paths, NUL bytes, and symlinks whose target lies outside.
 * This is the one place the UI touches the file system, so it is a layer adapter.
 *
 * @module
 */
import { readFile, realpath, stat } from "node:fs/promises";
import { posix, resolve, sep } from "node:path";

/** One file read from a Control UI root. */
export interface RootFile {
  /** The file's bytes. */
  body: Uint8Array<ArrayBuffer>;
  /** The path under the root, `/`-separated, as resolved (such as `assets/index-abc.js`). */
  path: string;
  /** When the file last changed, in epoch milliseconds. */
  mtimeMs: number;
}

/** Why a root path was refused: it names something outside the root, or nothing. */
export type RootFileMiss = "outside" | "missing";

/** The root's real path, or undefined when it does not exist. */
export async function resolveRoot(root: string): Promise<string | undefined> {
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
export async function readRootFile(rootReal: string, relative: string): Promise<RootFile | RootFileMiss> {
  if (relative.includes("\0")) return "outside";
  const normal = posix.normalize(relative.replaceAll("\\", "/"));
  if (posix.isAbsolute(normal) || normal === ".." || normal.startsWith("../")) return "outside";
  let real: string;
  try {
    real = await realpath(resolve(rootReal, normal));
  } catch {
    return "missing";
  }
  if (!real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep)) return "outside";
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
