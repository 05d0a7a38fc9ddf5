/**
 * A provider for the Anthropic Messages API (and Anthropic-compatible endpoints), streaming included,
 * mapped onto the same chat shapes as every other provider.
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
import { UpstreamError } from "./upstream-error.ts";

/** The API version header this adapter speaks. */
export const ANTHROPIC_VERSION = "2023-06-01";
/** The Messages API requires `max_tokens`; this is used when neither request nor config sets one. */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

/** How to reach an Anthropic Messages endpoint. */
export interface AnthropicOptions {
  /** Provider id, the prefix in `provider/model` references. */
  id: string;
  /** Defaults to `https://api.anthropic.com`; a trailing `/v1` is accepted. */
  baseUrl?: string;
  /** Sent as the `x-api-key` header. */
  apiKey?: string;
  /** Extra headers sent on every upstream request. */
  headers?: Record<string, string>;
  /** Abort an upstream call after this many milliseconds; default 120000. */
  timeoutMs?: number;
  /** Largest answer accepted (a whole stream included); `DEFAULT_MAX_RESPONSE_BYTES` otherwise. */
  maxResponseBytes?: number;
  /** `max_tokens` sent when the request sets none (the API requires one); default 4096. */
  maxTokens?: number;
  /** Models from config; listed without asking the upstream. */
  models?: ProviderModel[];
  /** The `fetch` used for every upstream request. */
  fetch: FetchLike;
}

type Block =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "tool_result"; tool_use_id: string; content: string };

interface WireMessage {
  role: "user" | "assistant";
  content: Block[];
}

interface WireUsage {
  input_tokens?: number;
  output_tokens?: number;
}

/** Talks to the Anthropic Messages API. */
export class AnthropicProvider implements ModelProvider {
  readonly api: string = "anthropic-messages";
  /** Provider id, the prefix in `provider/model` references. */
  readonly id: string;
  readonly #messagesUrl: string;
  readonly #modelsUrl: string;

  /** Makes a provider for the Messages API at `options.baseUrl`; nothing is sent until the first call. */
  constructor(private readonly options: AnthropicOptions) {
    this.id = options.id;
    const base = (options.baseUrl ?? "https://api.anthropic.com").replace(/\/+$/, "").replace(/\/v1$/, "");
    this.#messagesUrl = `${base}/v1/messages`;
    this.#modelsUrl = `${base}/v1/models`;
  }

  async *streamChat(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    using call = this.#call(signal);
    const response = await call.send(
      this.#messagesUrl,
      jsonPost(this.#headers(), { ...this.#wireRequest(request), stream: true }),
    );
    const stream = new MessageStream(call);
    try {
      for await (const { data } of await call.events(response)) yield* stream.read(data);
    } catch (error) {
      throw call.translate(error);
    }
    yield stream.finish();
  }

  async completeChat(request: ChatRequest, signal: AbortSignal): Promise<ChatResult> {
    using call = this.#call(signal);
    const response = await call.send(
      this.#messagesUrl,
      jsonPost(this.#headers(), this.#wireRequest(request)),
    );
    const body = await call.json<{ content?: Block[]; stop_reason?: string; usage?: WireUsage }>(response);
    if (!Array.isArray(body.content)) throw call.protocol("answered without `content`");
    let text = "";
    const toolCalls = [];
    for (const block of body.content) {
      if (block.type === "text") text += block.text;
      if (block.type === "tool_use") {
        toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
      }
    }
    const result: ChatResult = {
      text,
      toolCalls,
      finishReason: fromStopReason(body.stop_reason ?? "end_turn"),
    };
    if (body.usage) result.usage = usageOf(body.usage);
    return result;
  }

  /** Always rejects with an `unsupported` `UpstreamError`: the Messages API has no embeddings. */
  embed(_request: EmbeddingRequest, _signal: AbortSignal): Promise<EmbeddingResult> {
    return Promise.reject(
      new UpstreamError(
        this.id,
        "unsupported",
        `model provider '${this.id}' speaks the Anthropic Messages API, which has no embeddings; ` +
          "pick an OpenAI-compatible or local embedding model",
      ),
    );
  }

  /** Returns the configured models, or asks the upstream's `/v1/models` when none are configured. */
  async listModels(signal: AbortSignal): Promise<ProviderModel[]> {
    if (this.options.models?.length) return this.options.models;
    using call = this.#call(signal);
    const response = await call.send(this.#modelsUrl, { headers: this.#headers() });
    const body = await call.json<{ data?: { id?: string; display_name?: string }[] }>(response);
    return (body.data ?? []).flatMap((m) =>
      typeof m.id === "string" ? [{ id: m.id, name: m.display_name }] : []
    );
  }

  #call(signal: AbortSignal): UpstreamCall {
    return new UpstreamCall(this.id, this.options.fetch, signal, this.options);
  }

  #headers(): Record<string, string> {
    const headers: Record<string, string> = {
      "anthropic-version": ANTHROPIC_VERSION,
      ...this.options.headers,
    };
    if (this.options.apiKey) headers["x-api-key"] = this.options.apiKey;
    return headers;
  }

  #wireRequest(request: ChatRequest): Record<string, unknown> {
    const system = request.messages.filter((m) => m.role === "system").map((m) => m.content).join("\n\n");
    const body: Record<string, unknown> = {
      model: request.model,
      max_tokens: request.maxTokens ?? this.options.maxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
      messages: toWireMessages(request.messages),
    };
    if (system) body.system = system;
    if (request.tools?.length) {
      body.tools = request.tools.map((t) => ({
        name: t.name,
        description: t.description,
        input_schema: t.parameters ?? { type: "object", properties: {} },
      }));
    }
    if (request.toolChoice) {
      const choice = request.toolChoice;
      body.tool_choice = typeof choice === "object"
        ? { type: "tool", name: choice.name }
        : { type: choice === "required" ? "any" : choice };
    }
    if (request.temperature !== undefined) body.temperature = Math.min(request.temperature, 1);
    if (request.topP !== undefined) body.top_p = request.topP;
    if (request.stop?.length) body.stop_sequences = request.stop;
    return body;
  }
}

/** Reads one Messages API stream, event by event, into chat stream events. */
class MessageStream {
  // Content blocks are indexed across text and tool use; tool calls are numbered among themselves.
  readonly #toolIndexByBlock = new Map<number, number>();
  #inputTokens = 0;
  #outputTokens = 0;
  #finish: FinishReason = "stop";
  #stopped = false;

  constructor(private readonly call: UpstreamCall) {}

  /** The chat events one stream event (its `data`) stands for. */
  *read(data: string): Generator<ChatStreamEvent> {
    // deno-lint-ignore no-explicit-any
    let event: any;
    try {
      event = JSON.parse(data);
    } catch {
      throw this.call.protocol(`sent a stream event that is not JSON: ${data.slice(0, 120)}`);
    }
    switch (event.type) {
      case "message_start":
        this.#inputTokens = event.message?.usage?.input_tokens ?? 0;
        this.#outputTokens = event.message?.usage?.output_tokens ?? 0;
        break;
      case "content_block_start":
        if (event.content_block?.type === "tool_use") {
          const index = this.#toolIndexByBlock.size;
          this.#toolIndexByBlock.set(event.index, index);
          yield { type: "tool_call", index, id: event.content_block.id, name: event.content_block.name };
        } else if (event.content_block?.type === "text" && event.content_block.text) {
          yield { type: "text", text: event.content_block.text };
        }
        break;
      case "content_block_delta":
        if (event.delta?.type === "text_delta" && event.delta.text) {
          yield { type: "text", text: event.delta.text };
        } else if (event.delta?.type === "input_json_delta" && this.#toolIndexByBlock.has(event.index)) {
          const index = this.#toolIndexByBlock.get(event.index)!;
          yield { type: "tool_call", index, argumentsDelta: event.delta.partial_json ?? "" };
        }
        break;
      case "message_delta":
        if (event.delta?.stop_reason) this.#finish = fromStopReason(event.delta.stop_reason);
        if (typeof event.usage?.output_tokens === "number") this.#outputTokens = event.usage.output_tokens;
        break;
      case "message_stop":
        this.#stopped = true;
        break;
      case "error":
        throw this.call.protocol(`failed mid-stream: ${event.error?.message ?? "unknown error"}`);
    }
  }

  /** The closing `finish` event, once the stream has ended. */
  finish(): ChatStreamEvent {
    // A stream that just stops (a proxy timing out, an upstream crashing) must not pass for a whole reply.
    if (!this.#stopped) {
      throw this.call.protocol("ended the stream before message_stop; the reply is incomplete");
    }
    return {
      type: "finish",
      finishReason: this.#finish,
      usage: usageOf({ input_tokens: this.#inputTokens, output_tokens: this.#outputTokens }),
    };
  }
}

/** Maps the conversation onto alternating user/assistant turns; tool results ride in user turns. */
function toWireMessages(messages: ChatMessage[]): WireMessage[] {
  const out: WireMessage[] = [];
  for (const message of messages) {
    if (message.role === "system") continue;
    const role = message.role === "assistant" ? "assistant" : "user";
    const blocks: Block[] = [];
    if (message.role === "tool") {
      blocks.push({ type: "tool_result", tool_use_id: message.toolCallId ?? "", content: message.content });
    } else {
      if (message.content) blocks.push({ type: "text", text: message.content });
      for (const call of message.toolCalls ?? []) {
        blocks.push({
          type: "tool_use",
          id: call.id,
          name: call.name,
          input: parseArguments(call.arguments),
        });
      }
    }
    const last = out.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  }
  return out;
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text || "{}");
  } catch {
    return {};
  }
}

function fromStopReason(reason: string): FinishReason {
  if (reason === "max_tokens") return "length";
  if (reason === "tool_use") return "tool_calls";
  if (reason === "refusal") return "content_filter";
  return "stop";
}

function usageOf(usage: WireUsage): Usage {
  const inputTokens = usage.input_tokens ?? 0;
  const outputTokens = usage.output_tokens ?? 0;
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}
