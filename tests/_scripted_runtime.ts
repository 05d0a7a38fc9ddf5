// An agents runtime on given stores whose model ("rec/m") answers "ok" and records what it was asked, and a
// user turn on the main session: the setup the store round-trip and lease-guard tests share.
import { AgentRuntime, type AgentRuntimeOptions, type AgentStores } from "../lib/agents/runtime.ts";
import { createLogger, MemoryLogSink } from "../lib/log/logger.ts";
import type { ChatMessage, ChatRequest, ChatStreamEvent, ModelProvider } from "../lib/providers/types.ts";

/** The session key `userTurn` speaks in. */
export const MAIN_KEY = "agent:main:main";

/** A turn of the user saying `content` on {@link MAIN_KEY}. */
export const userTurn = (content: string) => ({
  sessionKey: MAIN_KEY,
  agentId: "main",
  origin: { kind: "chat" as const },
  messages: [{ role: "user" as const, content }],
});

/** A model that answers "ok" (after `before()` when given) and records every request's messages. */
export function recordingProvider(before?: () => Promise<void>) {
  const requests: ChatMessage[][] = [];
  const provider: ModelProvider = {
    id: "rec",
    api: "test",
    async *streamChat(request: ChatRequest): AsyncIterable<ChatStreamEvent> {
      requests.push(request.messages);
      await before?.();
      yield { type: "text", text: "ok" };
      yield { type: "finish", finishReason: "stop" };
    },
    completeChat: () => Promise.reject(new Error("not used")),
    embed: () => Promise.reject(new Error("not used")),
    listModels: () => Promise.resolve([]),
  };
  return { provider, requests };
}

/** A model ("fake") that answers every request with `reply()` and records every request. */
export function scriptedModel(reply: () => string): { provider: ModelProvider; calls: ChatRequest[] } {
  const calls: ChatRequest[] = [];
  const provider: ModelProvider = {
    id: "fake",
    api: "test",
    async *streamChat(request) {
      calls.push(request);
      yield { type: "text", text: reply() };
      yield { type: "finish", finishReason: "stop" };
    },
    completeChat: () => Promise.reject(new Error("unused")),
    embed: () => Promise.reject(new Error("unused")),
    listModels: () => Promise.resolve([]),
  };
  return { provider, calls };
}

/**
 * A runtime on `stores` with `provider` as model "rec/m" (a {@link recordingProvider} by default), named
 * `replicaId` in the turns it queues when one is given.
 */
export function scriptedRuntime(
  stores: AgentStores,
  { provider = recordingProvider().provider, lease, replicaId }: {
    provider?: ModelProvider;
    lease?: AgentRuntimeOptions["lease"];
    replicaId?: string;
  } = {},
): AgentRuntime {
  return new AgentRuntime({
    config: () => ({ agents: { defaults: { model: "rec/m" } } }),
    env: {},
    now: () => Date.now(),
    logger: createLogger({ sinks: [new MemoryLogSink()] }),
    stores,
    fetch: () => Promise.reject(new Error("no network")),
    providers: { rec: provider },
    ...(lease ? { lease } : {}),
    ...(replicaId ? { replicaId } : {}),
  });
}

/** A replica's runtime on `stores`, named `replicaId` in the turns it queues, with `provider` as "rec/m". */
export function scriptedReplica(
  stores: AgentStores,
  provider: ModelProvider,
  replicaId: string,
): AgentRuntime {
  return scriptedRuntime(stores, { provider, lease: { retryMs: 5 }, replicaId });
}
