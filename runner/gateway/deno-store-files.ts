/**
 * {@link StoreFiles} on Deno's file API: the runner hands it to the JSONL and JSON-document stores so the
 * gateway never loads `node:fs` (and with it Deno's Node compatibility layer, a few MiB kept while idle).
 *
 * @module
 */
import type { StoreFiles } from "../../lib/state/store-files.ts";
import { dirname } from "../cli/paths.ts";

// As node:fs reads "utf8": a byte order mark stays part of the text.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/** The file-backed stores' file access through `Deno.*`. */
export const denoStoreFiles: StoreFiles = {
  async readText(path) {
    try {
      return decoder.decode(await Deno.readFile(path));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  },
  async writeSynced(path, text, how) {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const file = await Deno.open(
      path,
      how === "append"
        ? { append: true, create: true, mode: 0o600 }
        : { write: true, createNew: true, mode: 0o600 },
    );
    try {
      const bytes = encoder.encode(text);
      for (let written = 0; written < bytes.length;) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
  },
  rename: (from, to) => Deno.rename(from, to),
  async remove(path) {
    try {
      await Deno.remove(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  },
};
