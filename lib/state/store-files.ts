/**
 * The few file operations the file-backed stores make (JSONL sessions and transcripts, JSON documents),
 * so the same stores run on `node:fs` (the published `./stores/jsonl`) or on Deno's own file API (the
 * runner, which keeps Deno's Node compatibility layer out of an idle gateway).
 *
 * @module
 */

/** File access for the file-backed stores. Paths are joined with `/`, which every runtime accepts. */
export interface StoreFiles {
  /** The file's UTF-8 text as stored (a byte order mark kept), or `undefined` when it does not exist. */
  readText(path: string): Promise<string | undefined>;
  /**
   * Writes `text` and fsyncs before resolving, creating the file's folder first (owner-only, 0700). The
   * file is created owner-only (0600): appended to (`"append"`), or new and refused if it exists
   * (`"create-new"`).
   */
  writeSynced(path: string, text: string, how: "append" | "create-new"): Promise<void>;
  /** Moves `from` over `to` in one step. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; one that is already gone is fine. */
  remove(path: string): Promise<void>;
}
