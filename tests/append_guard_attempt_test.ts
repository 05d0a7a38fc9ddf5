// A replica that still holds an old lease on a session (its release failed) must not let every refused
// attempt of the next turn append that turn's input: the guarded append names one attempt.
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
  Deno.test("a turn waiting on its own replica's unreleased lease appends its input once, not once per attempt", async () => {
    const server = await startRedisServer();
    const stores = await redisStores({ url: server.url, keyPrefix: "guard:", onError: () => {} });
    // Redis drops the release of turn two and its retry before turn three's first attempt (a blip).
    let failReleases = 0;
    const release = stores.leases.release.bind(stores.leases);
    stores.leases.release = (key, token) =>
      failReleases-- > 0 ? Promise.reject(new Error("connection reset")) : release(key, token);
    const runtime = new AgentRuntime({
      config: () => ({ agents: { defaults: { model: "rec/m" } } }),
      env: {},
      now: () => Date.now(),
      logger: createLogger({ sinks: [new MemoryLogSink()] }),
      stores,
      fetch: () => Promise.reject(new Error("no network")),
      providers: { rec: provider },
      lease: { ttlMs: 1_000, retryMs: 25 },
    });
    // The read-ahead goes with the first attempt only (and again once the lease is taken), not every retry.
    let reads = 0;
    const read = stores.transcripts.read.bind(stores.transcripts);
    stores.transcripts.read = (ref) => (reads++, read(ref));
    try {
      assert.equal((await runtime.startTurn(turn("one")).done).status, "ok");
      failReleases = 2;
      assert.equal((await runtime.startTurn(turn("two")).done).status, "ok");
      reads = 0;
      assert.equal((await runtime.startTurn(turn("three")).done).status, "ok");
      assert.equal(reads, 2, "the transcript is read with the first attempt and once the lease is held");
      const { sessionId } = (await stores.sessions.get(KEY))!;
      const lines = await stores.transcripts.read({ agentId: "main", sessionId });
      assert.deepEqual(lines.map((l) => l.content), ["one", "ok", "two", "ok", "three", "ok"]);
    } finally {
      runtime.close();
      await stores.close();
      await server.stop();
    }
  });
}
