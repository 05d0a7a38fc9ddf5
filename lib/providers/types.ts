/**
 * The one interface every model provider implements (an OpenAI-compatible upstream, the Anthropic
 * Messages API, the built-in local model), and the provider-neutral chat shapes they translate to.
 *
 * @module
 */

/** A function call the model asked for. `arguments` is JSON text, as OpenAI sends it. */
export interface ToolCall {
  /** Call id that the matching tool message echoes in `toolCallId`. */
  id: string;
  /** Name of the tool to run. */
  name: string;
  /** The call's arguments as JSON text, exactly as the model produced it (may be invalid JSON). */
  arguments: string;
}

/** One message of a conversation. Content is plain text; non-text parts are not carried. */
export interface ChatMessage {
  /**
   * Who speaks: instructions (`system`), the person (`user`), the model (`assistant`) or a tool result
   * (`tool`).
   */
  role: "system" | "user" | "assistant" | "tool";
  /** The message text; empty on assistant messages that only call tools. */
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
  /** Tool name the model uses to call it. */
  name: string;
  /** What the tool does, shown to the model to decide when to call it. */
  description?: string;
  /** JSON Schema of the arguments object; none means the tool takes no arguments. */
  parameters?: Record<string, unknown>;
}

/** Which tool use the caller demands. */
export type ToolChoice = "auto" | "none" | "required" | { name: string };

/** A provider-neutral chat request. `model` is the provider's own model id (no provider prefix). */
export interface ChatRequest {
  /** Model id as the provider names it, without the `provider/` prefix. */
  model: string;
  /** The conversation so far, oldest message first. */
  messages: ChatMessage[];
  /** Tools the model may call; none means plain chat. */
  tools?: ToolSpec[];
  /** Whether and which tool the model must call; default `auto` when tools are given. */
  toolChoice?: ToolChoice;
  /** Upper bound on generated tokens; default: the provider's own. */
  maxTokens?: number;
  /** Sampling temperature (0 deterministic, higher more varied); default: the provider's own. */
  temperature?: number;
  /** Nucleus sampling cut-off between 0 and 1; default: the provider's own. */
  topP?: number;
  /** Penalty on tokens by how often they appeared (-2 to 2, OpenAI semantics). */
  frequencyPenalty?: number;
  /** Penalty on tokens that appeared at all (-2 to 2, OpenAI semantics). */
  presencePenalty?: number;
  /** Seed for repeatable sampling, where the provider supports it. */
  seed?: number;
  /** Sequences that end generation when produced. */
  stop?: string[];
}

/** Token counts as the provider reported them. */
export interface Usage {
  /** Tokens in the prompt, tool definitions included. */
  inputTokens: number;
  /** Tokens the model generated. */
  outputTokens: number;
  /** Input plus output tokens, as the provider counts them. */
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
  /** The reply text; empty when the model only called tools. */
  text: string;
  /** Tool calls the model made, in order; empty when none. */
  toolCalls: ToolCall[];
  /** Why the model stopped. */
  finishReason: FinishReason;
  /** Token counts, when the provider reported them. */
  usage?: Usage;
}

/** An embeddings request; `model` is the provider's own model id. */
export interface EmbeddingRequest {
  /** Model id as the provider names it, without the `provider/` prefix. */
  model: string;
  /** Texts to embed, one vector each. */
  input: string[];
}

/** One vector per input, in input order. */
export interface EmbeddingResult {
  /** One vector per input, in input order. */
  vectors: number[][];
  /** Token counts, when the provider reported them. */
  usage?: { inputTokens: number; totalTokens: number };
}

/** A model as a provider lists it. */
export interface ProviderModel {
  /** Model id as the provider names it (no `provider/` prefix). */
  id: string;
  /** Display name, when the provider gives one. */
  name?: string;
  /** Most tokens of prompt plus reply the model accepts. */
  contextWindow?: number;
  /** Most tokens the model generates in one reply. */
  maxTokens?: number;
  /** Whether the model thinks before answering (a reasoning model). */
  reasoning?: boolean;
  /** Input kinds it accepts, such as `text` and `image`. */
  input?: string[];
  /** What the model is for; chat when absent. */
  kind?: "chat" | "embedding";
}

/** A model provider. Every call takes a signal: aborting it cancels the upstream request. */
export interface ModelProvider {
  /** Provider id, the prefix in `provider/model` references (e.g. `openai`, `anthropic`). */
  readonly id: string;
  /** The request adapter, e.g. `openai-completions`, `anthropic-messages`, `local`. */
  readonly api: string;
  /** Streams a reply. Errors are thrown as `UpstreamError`. */
  streamChat(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent>;
  /** Returns a whole reply in one call. */
  completeChat(request: ChatRequest, signal: AbortSignal): Promise<ChatResult>;
  /** Returns one vector per input text; throws `UpstreamError` when the provider has no embeddings. */
  embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult>;
  /** Lists the models the provider serves, for `models.list` and `/v1/models`. */
  listModels(signal: AbortSignal): Promise<ProviderModel[]>;
}

/** The `fetch` a provider uses; injectable so tests and embedders control the network. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
