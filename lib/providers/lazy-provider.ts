/**
 * A configured provider whose adapter module is imported on its first call. A gateway loads the code of
 * every provider its config names; one that never sends a request to a provider (an idle gateway, a
 * dev gateway on the built-in model) keeps none of it.
 *
 * @module
 */
import { once } from "../once.ts";
import type {
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  EmbeddingRequest,
  EmbeddingResult,
  ModelProvider,
  ProviderModel,
} from "./types.ts";

/**
 * A {@link ModelProvider} with the `id` and `api` of the one `load` builds, which runs on the first call
 * (again after a load that failed) and serves every call.
 */
export function lazyProvider(id: string, api: string, load: () => Promise<ModelProvider>): ModelProvider {
  const provider = once(load);
  return {
    id,
    api,
    async *streamChat(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
      yield* (await provider()).streamChat(request, signal);
    },
    async completeChat(request: ChatRequest, signal: AbortSignal): Promise<ChatResult> {
      return await (await provider()).completeChat(request, signal);
    },
    async embed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResult> {
      return await (await provider()).embed(request, signal);
    },
    async listModels(signal: AbortSignal): Promise<ProviderModel[]> {
      return await (await provider()).listModels(signal);
    },
  };
}
