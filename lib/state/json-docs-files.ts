/**
 * {@link JsonDocs} as files under the state dir on `node:fs` (adapter): {@link jsonDocsOnFiles} with its
 * file access filled in, for `./stores/jsonl` and the CLI.
 *
 * @module
 */
import { type JsonDocs, jsonDocsOnFiles } from "./json-docs.ts";
import { nodeStoreFiles } from "./node-store-files.ts";

/**
 * Documents under `root` (the profile's state dir), through `node:fs`.
 *
 * @example Write a document and read it back from another instance
 * ```ts
 * import { fileJsonDocs } from "@openclaw-ts/gateway/stores/jsonl";
 *
 * const stateDir = await Deno.makeTempDir();
 * await fileJsonDocs(stateDir).write("app/settings.json", { theme: "dark" });
 * const settings = await fileJsonDocs(stateDir).read("app/settings.json") as { theme: string };
 * if (settings.theme !== "dark") throw new Error(JSON.stringify(settings));
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export function fileJsonDocs(root: string): JsonDocs {
  return jsonDocsOnFiles(root, nodeStoreFiles);
}
