/**
 * A provider for any upstream that speaks the OpenAI Chat Completions API at a base URL: Ollama, vLLM,
 * llama.cpp server, LM Studio, LiteLLM, OpenAI itself. Streaming is passed through chunk by chunk.
 *
 * @module
 */
import type {
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
  Usage,
} from "./types.ts";
import { jsonPost, UpstreamCall } from "./upstream-call.ts";

/** How to reach an OpenAI-compatible upstream. */
export interface OpenAiCompatibleOptions {
  /** Provider id, the prefix in `provider/model` references. */
  id: string;
  /** Base URL including the version segment, e.g. `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`; none for servers that need no key (Ollama, LM Studio). */
  apiKey?: string;
  /** Extra headers sent on every upstream request. */
  headers?: Record<string, string>;
  /** Abort an upstream call after this many milliseconds; default 120000. */
  timeoutMs?: number;
  /** Largest answer accepted (a whole stream included); `DEFAULT_MAX_RESPONSE_BYTES` otherwise. */
  maxResponseBytes?: number;
  /** Models from config; listed without asking the upstream. */
  models?: ProviderModel[];
  /** The `fetch` used for every upstream request. */
  fetch: FetchLike;
}

interface WireToolCall {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

interface WireCompletion {
  choices?: {
    finish_reason?: string | null;
    message?: { content?: string | null; tool_calls?: WireToolCall[] };
  }[];
  usage?: WireUsage | null;
}

interface WireChunk {
  choices?: {
    finish_reason?: string | null;
    delta?: { content?: string | null; tool_calls?: WireToolCall[] };
  }[];
  usage?: WireUsage | null;
  error?: { message?: string };
}

/** Talks to an OpenAI-compatible upstream. */
export class OpenAiCompatibleProvider implements ModelProvider {
  readonly api: string = "openai-completions";
  /** Provider id, the prefix in `provider/model` references. */
  readonly id: string;
  readonly #baseUrl: string;

  /** Makes a provider for the upstream at `options.baseUrl`; nothing is sent until the first call. */
  constructor(private readonly options: OpenAiCompatibleOptions) {
    this.id = options.id;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  async *streamChat(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    using call = this.#call(signal);
    const body = { ...toWireRequest(request), stream: true, stream_options: { include_usage: true } };
    const response = await call.send(`${this.#baseUrl}/chat/completions`, jsonPost(this.#headers(), body));
    let finish: FinishReason | undefined;
    let usage: Usage | undefined;
    let done = false;
    try {
      for await (const { data } of await call.events(response)) {
        if (data === "[DONE]") {
          done = true;
          break;
        }
        let chunk: WireChunk;
        try {
          chunk = JSON.parse(data);
        } catch {
          throw call.protocol(`sent a stream chunk that is not JSON: ${data.slice(0, 120)}`);
        }
        if (chunk.error) throw call.protocol(`failed mid-stream: ${chunk.error.message ?? "unknown error"}`);
        if (chunk.usage) usage = fromWireUsage(chunk.usage);
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        if (choice.delta?.content) yield { type: "text", text: choice.delta.content };
        for (const tc of choice.delta?.tool_calls ?? []) {
          yield {
            type: "tool_call",
            index: tc.index ?? 0,
            id: tc.id,
            name: tc.function?.name,
            argumentsDelta: tc.function?.arguments,
          };
        }
        if (choice.finish_reason) finish = fromWireFinish(choice.finish_reason);
      }
    } catch (error) {
      throw call.translate(error);
    }
    // A stream that just stops (a proxy timing out, an upstream crashing) must not pass for a whole reply.
    if (!finish && !done) {
      throw call.protocol("ended the stream before finish_reason or [DONE]; the reply is incomplete");
    }
    yield { type: "finish", finishReason: finish ?? "stop", usage };
  }

  async completeChat(request: ChatRequest, signal: AbortSignal): Promise<ChatResult> {
    using call = this.#call(signal);
    const response = await call.send(
      `${this.#baseUrl}/chat/completions`,
      jsonPost(this.#headers(), toWireRequest(request)),
    );
    const completion = await call.json<WireCompletion>(response);
    const choice = completion.choices?.[0];
    if (!choice?.message) throw call.protocol("answered without a choice");
    const result: ChatResult = {
      text: choice.message.content ?? "",
      toolCalls: (choice.message.tool_calls ?? []).map((tc, i) => ({
        id: tc.id ?? `call_${i}`,
        name: tc.function?.name ?? "",
        arguments: tc.function?.arguments ?? "",
      })),
      finishReason: fromWireFinish(choice.finish_reason ?? "stop"),
    };
    if (completion.usage) result.usage = fromWireUsage(completion.usage);
    return result;
  }

  /** Calls the upstream's `/embeddings` endpoint; one vector per input. */
  async embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult> {
    using call = this.#call(signal);
    const response = await call.send(
      `${this.#baseUrl}/embeddings`,
      jsonPost(this.#headers(), { model: request.model, input: request.input }),
    );
    const body = await call.json<
      {
        data?: { index?: number; embedding?: number[] }[];
        usage?: { prompt_tokens?: number; total_tokens?: number };
      }
    >(response);
    if (!Array.isArray(body.data)) throw call.protocol("answered embeddings without `data`");
    const vectors: number[][] = [];
    body.data.forEach((row, i) => vectors[row.index ?? i] = row.embedding ?? []);
    const result: EmbeddingResult = { vectors };
    if (body.usage) {
      const input = body.usage.prompt_tokens ?? 0;
      result.usage = { inputTokens: input, totalTokens: body.usage.total_tokens ?? input };
    }
    return result;
  }

  /** Returns the configured models, or asks the upstream's `/models` when none are configured. */
  async listModels(signal: AbortSignal): Promise<ProviderModel[]> {
    if (this.options.models?.length) return this.options.models;
    using call = this.#call(signal);
    const response = await call.send(`${this.#baseUrl}/models`, { headers: this.#headers() });
    const body = await call.json<{ data?: { id?: string }[] }>(response);
    return (body.data ?? []).flatMap((m) => typeof m.id === "string" ? [{ id: m.id }] : []);
  }

  #call(signal: AbortSignal): UpstreamCall {
    return new UpstreamCall(this.id, this.options.fetch, signal, this.options);
  }

  #headers(): Record<string, string> {
    const headers: Record<string, string> = { ...this.options.headers };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    return headers;
  }
}

function toWireMessage(message: ChatMessage): Record<string, unknown> {
  const wire: Record<string, unknown> = { role: message.role, content: message.content };
  if (message.toolCalls?.length) {
    wire.tool_calls = message.toolCalls.map((tc) => ({
      id: tc.id,
      type: "function",
      function: { name: tc.name, arguments: tc.arguments },
    }));
  }
  if (message.toolCallId) wire.tool_call_id = message.toolCallId;
  if (message.name) wire.name = message.name;
  return wire;
}

function toWireRequest(request: ChatRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: request.model,
    messages: request.messages.map(toWireMessage),
  };
  if (request.tools?.length) {
    body.tools = request.tools.map((t) => ({
      type: "function",
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
  }
  if (request.toolChoice) {
    body.tool_choice = typeof request.toolChoice === "string"
      ? request.toolChoice
      : { type: "function", function: { name: request.toolChoice.name } };
  }
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.frequencyPenalty !== undefined) body.frequency_penalty = request.frequencyPenalty;
  if (request.presencePenalty !== undefined) body.presence_penalty = request.presencePenalty;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.stop?.length) body.stop = request.stop;
  return body;
}

function fromWireFinish(reason: string): FinishReason {
  if (reason === "length" || reason === "tool_calls" || reason === "content_filter") return reason;
  if (reason === "function_call") return "tool_calls";
  return "stop";
}

function fromWireUsage(usage: WireUsage): Usage {
  const inputTokens = usage.prompt_tokens ?? 0;
  const outputTokens = usage.completion_tokens ?? 0;
  return { inputTokens, outputTokens, totalTokens: usage.total_tokens ?? inputTokens + outputTokens };
}
