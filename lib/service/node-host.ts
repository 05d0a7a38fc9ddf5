/**
 * Node-API adapters (also used under Deno) for the installers' seams: a real command runner and
 * real, atomic file writes.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { CommandResult, CommandRunner, ServiceFiles } from "./types.ts";

/** Runs commands with `execFile` (no shell), capturing output; a missing program sets `notFound`. */
export const nodeCommandRunner: CommandRunner = (command, args) =>
  new Promise<CommandResult>((resolve) => {
    execFile(
      command,
      args,
      { encoding: "utf8", timeout: 30_000, windowsHide: true },
      (error, stdout, stderr) => {
        const err = error as (Error & { code?: unknown }) | null;
        if (err?.code === "ENOENT") {
          return resolve({ code: 127, stdout: "", stderr: err.message, notFound: true });
        }
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });

function isMissing(err: unknown): boolean {
  return (err as { code?: unknown })?.code === "ENOENT";
}

/** File access on the real file system. */
export const nodeServiceFiles: ServiceFiles = {
  async readText(path) {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  },
  async writeText(path, text, options = {}) {
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
    await writeFile(temp, text, { mode: options.mode ?? 0o644 });
    if (options.mode !== undefined) await chmod(temp, options.mode);
    await rename(temp, path);
  },
  async remove(path) {
    await rm(path, { force: true });
  },
  async mode(path) {
    try {
      return (await stat(path)).mode & 0o777;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  },
  async chmod(path, mode) {
    await chmod(path, mode);
  },
  async removeEmptyFolder(path) {
    await rmdir(path);
  },
  async mkdir(path, mode) {
    await mkdir(path, { recursive: true, ...(mode !== undefined ? { mode } : {}) });
  },
  async list(path) {
    try {
      return await readdir(path);
    } catch (err) {
      if (isMissing(err)) return [];
      throw err;
    }
  },
};
