/**
 * Reads files of a Control UI build on disk (`gateway.controlUi.root`) through `node:fs`, with the
 * root-confinement rules of {@link uiRootFilesOn}. A layer adapter: the runner hands it to
 * `controlUiModule({ rootFiles })`, so the root entry point's graph stays free of `node:` modules.
 *
 * @module
 */
import { readFile, realpath, stat } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { type UiRootFiles, uiRootFilesOn } from "./root-ui.ts";

/** The Control UI root on the local file system. */
export const nodeUiRootFiles: UiRootFiles = uiRootFilesOn({
  realPath: realpath,
  async stat(path) {
    const info = await stat(path);
    return { isFile: info.isFile(), mtimeMs: info.mtimeMs };
  },
  async readFile(path) {
    const bytes = await readFile(path);
    const body = new Uint8Array(new ArrayBuffer(bytes.byteLength));
    body.set(bytes);
    return body;
  },
  resolve,
  sep,
});
