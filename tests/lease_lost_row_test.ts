// A turn whose lease lapsed and was taken by another replica before its reply must write nothing of its
// end: not the reply's line (guarded append) and not a finished run on the session's row (recordRunIfHeld),
// since the session belongs to the other replica now.
import assert from "node:assert/strict";
import { AgentRuntime } from "../lib/agents/runtime.ts";
import { createLogger, MemoryLogSink } from "../lib/log/logger.ts";
import type { ChatRequest, ChatStreamEvent, ModelProvider } from "../lib/providers/types.ts";
import { redisStores } from "../stores/redis.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";

const KEY = "agent:main:main";
const turn = (content: string) => ({
  sessionKey: KEY,
  agentId: "main",
  origin: { kind: "chat" as const },
  messages: [{ role: "user" as const, content }],
});

const provider: ModelProvider = {
  id: "rec",
  api: "test",
  async *streamChat(_: ChatRequest): AsyncIterable<ChatStreamEvent> {
    yield { type: "text", text: "ok" };
    yield { type: "finish", finishReason: "stop" };
  },
  completeChat: () => Promise.reject(new Error("not used")),
  embed: () => Promise.reject(new Error("not used")),
  listModels: () => Promise.resolve([]),
};

if (REDIS_SERVER) {
  Deno.test("a turn whose reply was refused under a lost lease does not record an ok run on the session row", async () => {
    const server = await startRedisServer();
    const stores = await redisStores({ url: server.url, keyPrefix: "lostrow:", onError: () => {} });
    const tokens: string[] = [];
    const acquire = stores.leases.acquire.bind(stores.leases);
    stores.leases.acquire = async (key, owner, ttlMs) => {
      const token = await acquire(key, owner, ttlMs);
      if (token) tokens.push(token);
      return token;
    };
    const called = Promise.withResolvers<void>();
    const answer = Promise.withResolvers<void>();
    const slow: ModelProvider = {
      ...provider,
      async *streamChat(): AsyncIterable<ChatStreamEvent> {
        called.resolve();
        await answer.promise;
        yield { type: "text", text: "ok" };
        yield { type: "finish", finishReason: "stop" };
      },
    };
    const runtime = new AgentRuntime({
      config: () => ({ agents: { defaults: { model: "rec/m" } } }),
      env: {},
      now: () => Date.now(),
      logger: createLogger({ sinks: [new MemoryLogSink()] }),
      stores,
      fetch: () => Promise.reject(new Error("no network")),
      providers: { rec: slow },
      lease: { ttlMs: 30_000 },
    });
    try {
      const run = runtime.startTurn(turn("one"));
      await called.promise;
      // Its lease lapsed unnoticed (a stalled event loop) and another replica took the session.
      const key = "session:" + KEY;
      await stores.leases.release(key, tokens[0]);
      assert.ok(await acquire(key, "other-replica", 30_000));
      answer.resolve();
      const outcome = await run.done;
      assert.equal(outcome.status, "error");
      assert.equal(outcome.error?.code, "UNAVAILABLE");
      assert.equal(outcome.error?.retryable, true);
      const { sessionId } = (await stores.sessions.get(KEY))!;
      const lines = await stores.transcripts.read({ agentId: "main", sessionId });
      assert.deepEqual(
        lines.map((l) => l.content),
        ["one"],
        "the reply is not written under another's lease",
      );
      const row = (await stores.sessions.get(KEY))!;
      assert.notEqual(row.lastRunId, outcome.runId, "the row must not record this turn as its last run");
      assert.notEqual(row.lastRunState, "done", "the row must not say the turn finished");
      assert.notEqual(
        row.lastMessagePreview,
        "ok",
        "the row must not preview a reply that was never written",
      );
    } finally {
      runtime.close();
      await stores.close();
      await server.stop();
    }
  });
}
