/**
 * The runner's Control UI root on disk (`gateway.controlUi.root`) through Deno's file API, so the
 * gateway path loads no `node:` module; the root-confinement rules are the library's
 * (`uiRootFilesOn`).
 *
 * @module
 */
import { once } from "../../lib/once.ts";
import type { UiRootFiles } from "../../lib/ui/root-ui.ts";
import { resolve } from "../cli/paths.ts";

// Built on first use: a gateway whose config names no UI root never loads the root's file serving.
const files = once(async () =>
  (await import("../../lib/ui/root-ui.ts")).uiRootFilesOn({
    realPath: Deno.realPath,
    async stat(path) {
      const info = await Deno.stat(path);
      return { isFile: info.isFile, mtimeMs: info.mtime?.getTime() ?? 0 };
    },
    readFile: Deno.readFile,
    resolve,
    sep: "/",
  })
);

/** The Control UI root on the local file system, read with `Deno.*`. */
export const denoUiRootFiles: UiRootFiles = {
  realRoot: async (root) => (await files()).realRoot(root),
  read: async (rootReal, relative) => (await files()).read(rootReal, relative),
};
