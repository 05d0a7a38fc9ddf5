/**
 * The one interface every model provider implements (an OpenAI-compatible upstream, the Anthropic
 * Messages API, the built-in local model), and the provider-neutral chat shapes they translate to.
 *
 * @module
 */

/** A function call the model asked for. `arguments` is JSON text, as OpenAI sends it. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** One message of a conversation. Content is plain text; non-text parts are not carried. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  /** On assistant messages: the calls it made. */
  toolCalls?: ToolCall[];
  /** On tool messages: the call this answers. */
  toolCallId?: string;
  /** On tool messages: the tool's name (some upstreams need it). */
  name?: string;
}

/** A function the caller offers the model. `parameters` is a JSON Schema. */
export interface ToolSpec {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

/** Which tool use the caller demands. */
export type ToolChoice = "auto" | "none" | "required" | { name: string };

/** A provider-neutral chat request. `model` is the provider's own model id (no provider prefix). */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  seed?: number;
  stop?: string[];
}

/** Token counts as the provider reported them. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** Why the model stopped. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/**
 * One piece of a streamed reply. Tool calls arrive as fragments keyed by `index`: the first fragment of
 * a call carries `id` and `name`, later ones carry argument text.
 */
export type ChatStreamEvent =
  | { type: "text"; text: string }
  | { type: "tool_call"; index: number; id?: string; name?: string; argumentsDelta?: string }
  | { type: "finish"; finishReason: FinishReason; usage?: Usage };

/** A whole reply. */
export interface ChatResult {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage?: Usage;
}

/** An embeddings request; `model` is the provider's own model id. */
export interface EmbeddingRequest {
  model: string;
  input: string[];
}

/** One vector per input, in input order. */
export interface EmbeddingResult {
  vectors: number[][];
  usage?: { inputTokens: number; totalTokens: number };
}

/** A model as a provider lists it. */
export interface ProviderModel {
  id: string;
  name?: string;
  contextWindow?: number;
  maxTokens?: number;
  reasoning?: boolean;
  input?: string[];
  /** What the model is for; chat when absent. */
  kind?: "chat" | "embedding";
}

/** A model provider. Every call takes a signal: aborting it cancels the upstream request. */
export interface ModelProvider {
  readonly id: string;
  /** The request adapter, e.g. `openai-completions`, `anthropic-messages`, `local`. */
  readonly api: string;
  /** Streams a reply. Errors are thrown as `UpstreamError`. */
  streamChat(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent>;
  /** Returns a whole reply in one call. */
  completeChat(request: ChatRequest, signal: AbortSignal): Promise<ChatResult>;
  embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult>;
  listModels(signal: AbortSignal): Promise<ProviderModel[]>;
}

/** The `fetch` a provider uses; injectable so tests and embedders control the network. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
