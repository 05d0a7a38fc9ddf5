/**
 * Agents, sessions and model providers. The OpenAI-compatible HTTP API in front of them
 * (`openAiHttpModule`, lib/http/openai/) builds on this folder, so the package root exports it, not
 * this file.
 *
 * @example Ask the default agent over the OpenAI-compatible chat completions endpoint
 * ```ts
 * import { agentsModule, createGateway, memoryTransport, openAiHttpModule } from "@openclaw-ts/gateway";
 *
 * // Sessions and transcripts live in memory here; `createGateway({ stores: jsonlStores(dir) })` (from
 * // `@openclaw-ts/gateway/stores/jsonl`) keeps them on disk instead.
 * const agents = agentsModule();
 * const transport = memoryTransport();
 * const gateway = createGateway({
 *   transport,
 *   config: {
 *     gateway: { auth: { token: "s3cret" }, http: { endpoints: { chatCompletions: { enabled: true } } } },
 *   },
 *   modules: [agents, openAiHttpModule({ agents })],
 * });
 * await gateway.start();
 *
 * // No model is configured, so the default agent answers with the built-in local model (no network).
 * const response = await transport.fetch("/v1/chat/completions", {
 *   method: "POST",
 *   headers: { authorization: "Bearer s3cret", "content-type": "application/json" },
 *   body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }),
 * });
 * const completion = await response.json();
 * if (completion.object !== "chat.completion") throw new Error(JSON.stringify(completion));
 * await gateway.stop();
 * ```
 *
 * @module
 */
export { AGENT_RUNTIME } from "./service.ts";
export type { LiveRun, LiveRuns } from "./runs.ts";
export { type AgentsModule, agentsModule, type AgentsModuleOptions } from "./agents-module.ts";
export type {
  AgentRuntime,
  AgentStores,
  RunEvent,
  RunEventListener,
  RunEventRenderer,
  RunHandle,
  RunInfo,
  RunOrigin,
  TurnInput,
  TurnParams,
  WaitResult,
} from "./runtime.ts";
export {
  MemoryRunStore,
  type RunEnd,
  type RunOutcome,
  type RunState,
  type RunStore,
  type StoredRun,
} from "../state/runs.ts";
export { type AgentToolHost, MAX_TOOL_STEPS, type ToolCallResult, type ToolRunContext } from "./tool-host.ts";
export {
  type AppendGuard,
  type AppendOptions,
  MemorySessionStore,
  MemoryTranscriptStore,
  type NewTranscriptEntry,
  type RunEndState,
  type SessionEntry,
  type SessionPatch,
  type SessionPatchField,
  type SessionRunUpdate,
  type SessionStore,
  type TranscriptEntry,
  type TranscriptRef,
  type TranscriptStore,
} from "../state/sessions.ts";
export { type AgentCatalog, DEFAULT_AGENT_ID, type ResolvedAgent } from "./catalog.ts";
export type {
  ChatMessage,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  EmbeddingRequest,
  EmbeddingResult,
  FetchLike,
  FinishReason,
  ModelProvider,
  ProviderModel,
  ToolCall,
  ToolChoice,
  ToolSpec,
  Usage,
} from "../providers/types.ts";
export { type OpenAiCompatibleOptions, OpenAiCompatibleProvider } from "../providers/openai-compatible.ts";
export { type AnthropicOptions, AnthropicProvider } from "../providers/anthropic.ts";
export {
  LOCAL_CHAT_MODEL,
  LOCAL_EMBEDDING_MODEL,
  LOCAL_PROVIDER_ID,
  LocalProvider,
} from "../providers/local.ts";
export { UpstreamError, type UpstreamFailure } from "../providers/upstream-error.ts";
export type { CatalogModel, ProviderRegistry, ResolvedModel } from "../providers/registry.ts";
export {
  type DetectedModelServer,
  detectLocalModelServer,
  LOCAL_MODEL_SERVERS,
} from "../providers/local-servers.ts";
export type {
  AgentEntryConfig,
  AgentModelConfig,
  AgentSettings,
  AgentsSection,
  HeartbeatActiveHours,
  HeartbeatConfig,
} from "../config/sections/agents.ts";
export type { ModelProviderConfig, ModelsSection, ProviderModelConfig } from "../config/sections/models.ts";
export type { CommandsSection } from "../config/sections/commands.ts";
