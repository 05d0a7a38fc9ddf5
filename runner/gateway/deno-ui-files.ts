/**
 * The runner's Control UI root on disk (`gateway.controlUi.root`) through Deno's file API, so the
 * gateway path loads no `node:` module; the root-confinement rules are the library's
 * (`uiRootFilesOn`).
 *
 * @module
 */
import { type UiRootFiles, uiRootFilesOn } from "../../lib/ui/root-ui.ts";
import { resolve } from "../cli/paths.ts";

/** The Control UI root on the local file system, read with `Deno.*`. */
export const denoUiRootFiles: UiRootFiles = uiRootFilesOn({
  realPath: Deno.realPath,
  async stat(path) {
    const info = await Deno.stat(path);
    return { isFile: info.isFile, mtimeMs: info.mtime?.getTime() ?? 0 };
  },
  readFile: Deno.readFile,
  resolve,
  sep: "/",
});
