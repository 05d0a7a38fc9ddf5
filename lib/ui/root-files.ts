/**
 * Reads files of a Control UI build on disk (`gateway.controlUi.root`) through `node:fs`, with the
 * root-confinement rules of {@link uiRootFilesOn}: the file access a Node embedder passes to
 * `controlUiModule({ rootFiles })`, exported from `./node`. A layer adapter, so the root entry point's graph
 * stays free of `node:` modules. The runner reads the same files with Deno's own APIs instead
 * (runner/gateway/deno-ui-files.ts), since `node:fs` would load Deno's Node compatibility layer.
 *
 * @module
 */
import { readFile, realpath, stat } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { type UiRootFiles, uiRootFilesOn } from "./root-ui.ts";

/**
 * The Control UI root on the local file system.
 *
 * @example A UI build from disk, served at `/`
 * ```ts
 * import { controlUiModule, createGateway, memoryTransport } from "@openclaw-ts/gateway";
 * import { nodeUiRootFiles } from "@openclaw-ts/gateway/node";
 *
 * const root = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${root}/index.html`, "<!doctype html><title>my UI</title>");
 * const transport = memoryTransport();
 * const gateway = createGateway({
 *   transport,
 *   config: { gateway: { auth: { token: "s3cret" }, controlUi: { root } } },
 *   modules: [controlUiModule({ rootFiles: nodeUiRootFiles })],
 * });
 * await gateway.start();
 * const page = await transport.fetch("/");
 * if (!(await page.text()).includes("my UI")) throw new Error(`answered ${page.status}`);
 * await gateway.stop();
 * await Deno.remove(root, { recursive: true });
 * ```
 */
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
