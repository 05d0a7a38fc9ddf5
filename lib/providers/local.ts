/**
 * The built-in local model: no network, no key, no weights. Replies are scripted from the conversation
 * so the same input always gives the same output; it streams word by word, calls a caller's tool when
 * the user names it, and embeds text by hashing words. It exists so a fresh gateway answers a chat
 * request out of the box, and so tests have a model they can predict.
 *
 * @module
 */
import { collectReply } from "./accumulate.ts";
import type {
  ChatMessage,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  EmbeddingRequest,
  EmbeddingResult,
  ModelProvider,
  ProviderModel,
} from "./types.ts";

/** The provider id of the built-in model. */
export const LOCAL_PROVIDER_ID = "local";
/** Its chat model. */
export const LOCAL_CHAT_MODEL = "scripted-1";
/** Its embedding model. */
export const LOCAL_EMBEDDING_MODEL = "hash-embed-1";
/** Length of every local embedding vector. */
export const LOCAL_EMBEDDING_DIMENSIONS = 256;

const MODELS: ProviderModel[] = [
  {
    id: LOCAL_CHAT_MODEL,
    name: "Local scripted model (built-in, no network)",
    contextWindow: 32_768,
    kind: "chat",
  },
  { id: LOCAL_EMBEDDING_MODEL, name: "Local hashed embeddings (built-in)", kind: "embedding" },
];

/** Options for tests and demos. */
export interface LocalProviderOptions {
  /** Pause between streamed words, to make streaming visible; 0 by default. */
  delayMs?: number;
  /** Only used with `delayMs`; injectable so nothing here touches a runtime global. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** The built-in deterministic model. */
export class LocalProvider implements ModelProvider {
  readonly id: string = LOCAL_PROVIDER_ID;
  readonly api: string = "local";

  /** Makes the local model; it needs no network and answers the same way for the same conversation. */
  constructor(private readonly options: LocalProviderOptions = {}) {}

  async *streamChat(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    const toolCall = chooseToolCall(request);
    const reply = toolCall ? `Calling ${toolCall.name}.` : scriptedReply(request.messages);
    const words = limitWords(reply.match(/\s*\S+/g) ?? [], request.maxTokens);
    for (const word of words) {
      signal.throwIfAborted();
      if (this.options.delayMs && this.options.sleep) await this.options.sleep(this.options.delayMs, signal);
      yield { type: "text", text: word };
    }
    if (toolCall) {
      yield { type: "tool_call", index: 0, id: toolCall.id, name: toolCall.name };
      yield { type: "tool_call", index: 0, argumentsDelta: toolCall.arguments };
    }
    const inputTokens = request.messages.reduce((n, m) => n + estimateTokens(m.content), 0);
    const outputTokens = words.length + (toolCall ? 1 : 0);
    yield {
      type: "finish",
      finishReason: toolCall
        ? "tool_calls"
        : words.length < (reply.match(/\S+/g)?.length ?? 0)
        ? "length"
        : "stop",
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
    };
  }

  completeChat(request: ChatRequest, signal: AbortSignal): Promise<ChatResult> {
    return collectReply(this.streamChat(request, signal));
  }

  embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult> {
    signal.throwIfAborted();
    const inputTokens = request.input.reduce((n, text) => n + estimateTokens(text), 0);
    return Promise.resolve({
      vectors: request.input.map(hashEmbedding),
      usage: { inputTokens, totalTokens: inputTokens },
    });
  }

  listModels(_signal: AbortSignal): Promise<ProviderModel[]> {
    return Promise.resolve(MODELS);
  }
}

/** The text of the reply, a pure function of the conversation. */
function scriptedReply(messages: ChatMessage[]): string {
  const last = messages.at(-1);
  if (last?.role === "tool") return `The tool ${last.name ?? "call"} returned: ${last.content}`;
  const userTurns = messages.filter((m) => m.role === "user").length;
  const text = [...messages].reverse().find((m) => m.role === "user")?.content.trim() ?? "";
  if (!text) return "I received no text. Send a message and I will answer.";
  if (/^(hi|hello|hey)\b/i.test(text)) {
    return "Hello! I am the gateway's built-in local model. Configure models.providers to talk to a real one.";
  }
  const quoted = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return `Local model reply #${userTurns}: you said "${quoted}".`;
}

/** Calls a caller-offered tool when tool use is demanded or the user names the tool. */
function chooseToolCall(request: ChatRequest): { id: string; name: string; arguments: string } | undefined {
  const tools = request.tools ?? [];
  const choice = request.toolChoice ?? "auto";
  if (!tools.length || choice === "none" || request.messages.at(-1)?.role === "tool") return undefined;
  const text = [...request.messages].reverse().find((m) => m.role === "user")?.content ?? "";
  const tool = typeof choice === "object"
    ? tools.find((t) => t.name === choice.name)
    : tools.find((t) => text.includes(t.name)) ?? (choice === "required" ? tools[0] : undefined);
  if (!tool) return undefined;
  const id = `call_${fnv1a(`${tool.name}:${text}`).toString(16).padStart(8, "0")}`;
  return { id, name: tool.name, arguments: JSON.stringify({ query: text }) };
}

function limitWords(words: string[], maxTokens: number | undefined): string[] {
  return maxTokens !== undefined && words.length > maxTokens ? words.slice(0, maxTokens) : words;
}

/** About four characters per token, as rough tokenizers count. */
function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** A unit vector from the hashed words of `text` (the "hashing trick"); empty text gives zeros. */
export function hashEmbedding(text: string): number[] {
  const vector = new Array<number>(LOCAL_EMBEDDING_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const hash = fnv1a(word);
    vector[hash % LOCAL_EMBEDDING_DIMENSIONS] += hash & 0x80000000 ? -1 : 1;
  }
  const norm = Math.hypot(...vector);
  return norm === 0 ? vector : vector.map((x) => x / norm);
}

/** 32-bit FNV-1a over UTF-16 code units: tiny, stable, good enough for bucketing words. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
