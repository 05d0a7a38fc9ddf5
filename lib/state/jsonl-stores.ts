/**
 * Durable sessions and transcripts as JSONL files on `node:fs` (adapter): {@link JsonlSessionLog} and
 * {@link JsonlTranscriptLog} with their file access filled in, for `./stores/jsonl` and Node embedders.
 *
 * @module
 */
import { fileJsonDocs } from "./json-docs-files.ts";
import type { JsonDocs } from "./json-docs.ts";
import { JsonlSessionLog, JsonlTranscriptLog } from "./jsonl-logs.ts";
import { nodeStoreFiles } from "./node-store-files.ts";

/** Transcripts as one JSONL file per session under the state dir, through `node:fs`. */
export class JsonlTranscriptStore extends JsonlTranscriptLog {
  /** Transcripts under `stateDir`; the last `cacheSize` read are kept in memory. */
  constructor(stateDir: string, cacheSize?: number) {
    super(stateDir, nodeStoreFiles, cacheSize);
  }
}

/** Session metadata as an append-only JSONL log under the state dir, through `node:fs`. */
export class JsonlSessionStore extends JsonlSessionLog {
  /** Session metadata in `agents/sessions.jsonl` under `stateDir`. */
  constructor(stateDir: string) {
    super(stateDir, nodeStoreFiles);
  }
}

/**
 * Durable sessions, transcripts and JSON documents (cron jobs, channel pairing) under `stateDir`, for
 * `createGateway({ stores })`.
 *
 * @example A transcript outlives the stores that wrote it
 * ```ts
 * import { jsonlStores } from "@openclaw-ts/gateway/stores/jsonl";
 *
 * const stateDir = await Deno.makeTempDir();
 * const transcript = { agentId: "main", sessionId: crypto.randomUUID() };
 * const line = { id: "1", ts: Date.now(), role: "user" as const, content: "hello" };
 * await jsonlStores(stateDir).transcripts.append(transcript, [line]);
 * const lines = await jsonlStores(stateDir).transcripts.read(transcript);
 * if (lines.length !== 1) throw new Error(JSON.stringify(lines));
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 */
export function jsonlStores(
  stateDir: string,
): { sessions: JsonlSessionStore; transcripts: JsonlTranscriptStore; docs: JsonDocs } {
  return {
    sessions: new JsonlSessionStore(stateDir),
    transcripts: new JsonlTranscriptStore(stateDir),
    docs: fileJsonDocs(stateDir),
  };
}
