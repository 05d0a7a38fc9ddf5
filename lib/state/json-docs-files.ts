/**
 * {@link JsonDocs} as files under the state dir on `node:fs` (adapter): {@link jsonDocsOnFiles} with its
 * file access filled in, for `./stores/jsonl` and the CLI.
 *
 * @module
 */
import { type JsonDocs, jsonDocsOnFiles } from "./json-docs.ts";
import { nodeStoreFiles } from "./node-store-files.ts";

/** Documents under `root` (the profile's state dir), through `node:fs`. */
export function fileJsonDocs(root: string): JsonDocs {
  return jsonDocsOnFiles(root, nodeStoreFiles);
}
