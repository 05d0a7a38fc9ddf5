/**
 * {@link StoreFiles} on `node:fs` (adapter): what the published `./stores/jsonl` uses by default, so it
 * runs on Node, Bun and Deno alike.
 *
 * @module
 */
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { StoreFiles } from "./store-files.ts";

/** The file-backed stores' file access through `node:fs/promises`. */
export const nodeStoreFiles: StoreFiles = {
  async readText(path) {
    try {
      return await readFile(path, "utf8");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return undefined;
      throw error;
    }
  },
  async writeSynced(path, text, how) {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const file = await open(path, how === "append" ? "a" : "wx", 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
  },
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
};
