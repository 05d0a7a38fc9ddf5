/**
 * Agents, sessions and model providers. The OpenAI-compatible HTTP API in front of them
 * (`openAiHttpModule`, lib/http/openai/) builds on this folder, so the package root exports it, not
 * this file.
 *
 * ```ts
 * const agents = agentsModule();
 * createGateway({ config, stores: jsonlStores(stateDir), modules: [agents, openAiHttpModule({ agents })] });
 * ```
 *
 * @module
 */
export { AGENT_RUNTIME } from "./service.ts";
export { type AgentsModule, agentsModule, type AgentsModuleOptions } from "./agents-module.ts";
export type {
  AgentRuntime,
  AgentStores,
  RunEvent,
  RunHandle,
  RunInfo,
  RunOrigin,
  TurnInput,
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
  MemorySessionStore,
  MemoryTranscriptStore,
  type NewTranscriptEntry,
  type RunEndState,
  type SessionEntry,
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
} from "../config/sections/agents.ts";
export type { ModelProviderConfig, ModelsSection, ProviderModelConfig } from "../config/sections/models.ts";
