/**
 * File-backed stores under a state dir (`@openclaw-ts/gateway/stores/jsonl`), through `node:fs`: sessions
 * and transcripts as JSONL (fsynced appends, as OpenClaw lays them out) and small JSON documents (channel
 * pairing, Telegram offsets) as atomically replaced files.
 *
 * @example Keep sessions and transcripts on disk
 * ```ts
 * import { agentsModule, createGateway, memoryTransport, openAiHttpModule } from "@openclaw-ts/gateway";
 * import { jsonlStores } from "@openclaw-ts/gateway/stores/jsonl";
 *
 * const stateDir = await Deno.makeTempDir();
 * const stores = jsonlStores(stateDir);
 * const agents = agentsModule();
 * const transport = memoryTransport();
 * const gateway = createGateway({
 *   transport,
 *   stores,
 *   config: { gateway: { auth: { token: "s3cret" }, http: { endpoints: { chatCompletions: { enabled: true } } } } },
 *   modules: [agents, openAiHttpModule({ agents })],
 * });
 * await gateway.start();
 * const response = await transport.fetch("/v1/chat/completions", {
 *   method: "POST",
 *   headers: { authorization: "Bearer s3cret", "content-type": "application/json" },
 *   body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hello" }], user: "ada" }),
 * });
 * if (response.status !== 200) throw new Error(`chat answered ${response.status}`);
 * await response.json();
 * if ((await stores.sessions.list()).length !== 1) throw new Error("the session was not stored");
 * await gateway.stop();
 * await Deno.remove(stateDir, { recursive: true });
 * ```
 *
 * @module
 */
export { JsonlSessionStore, jsonlStores, JsonlTranscriptStore } from "../lib/state/jsonl-stores.ts";
export { fileJsonDocs } from "../lib/state/json-docs-files.ts";
// The JSONL logic over any file system (the stores above are it on node:fs): a runtime with its own file
// API passes a StoreFiles, as the runner does with Deno's.
export { jsonlLogStores, JsonlSessionLog, JsonlTranscriptLog } from "../lib/state/jsonl-logs.ts";
export type { StoreFiles } from "../lib/state/store-files.ts";
