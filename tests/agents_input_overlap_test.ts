// A turn's input is written while the model already works on it; the reply is written after the input,
// and an input that cannot be written fails the turn and cancels the model call.
import assert from "node:assert/strict";
import { AgentRuntime } from "../lib/agents/runtime.ts";
import {
  MemorySessionStore,
  MemoryTranscriptStore,
  type NewTranscriptEntry,
  type TranscriptEntry,
} from "../lib/state/sessions.ts";
import type { TranscriptRef } from "../lib/state/sessions.ts";
import { completeStores } from "../lib/state/stores.ts";
import { createLogger, MemoryLogSink } from "../lib/log/logger.ts";
import type { ChatRequest, ChatStreamEvent, ModelProvider } from "../lib/providers/types.ts";

/** A transcript store whose first append waits for `release` (or fails with `fail`). */
class GatedTranscripts extends MemoryTranscriptStore {
  readonly gate = Promise.withResolvers<void>();
  #gated = true;
  override async append(
    ref: TranscriptRef,
    entries: readonly NewTranscriptEntry[],
  ): Promise<TranscriptEntry[]> {
    if (this.#gated) {
      this.#gated = false;
      await this.gate.promise;
    }
    return super.append(ref, entries);
  }
}

/** A provider that reports when it was called and waits for `finish` before its last event. */
function gatedProvider() {
  const called = Promise.withResolvers<void>();
  const finish = Promise.withResolvers<void>();
  let signal: AbortSignal | undefined;
  const provider: ModelProvider = {
    id: "gated",
    api: "test",
    async *streamChat(_request: ChatRequest, s: AbortSignal): AsyncIterable<ChatStreamEvent> {
      signal = s;
      called.resolve();
      yield { type: "text", text: "hello" };
      await Promise.race([
        finish.promise,
        new Promise((_, reject) => s.addEventListener("abort", () => reject(s.reason), { once: true })),
      ]);
      yield { type: "finish", finishReason: "stop" };
    },
    completeChat: () => Promise.reject(new Error("not used")),
    embed: () => Promise.reject(new Error("not used")),
    listModels: () => Promise.resolve([]),
  };
  return { provider, called: called.promise, finish, signal: () => signal };
}

function runtimeWith(transcripts: MemoryTranscriptStore, provider: ModelProvider) {
  const sessions = new MemorySessionStore();
  const runtime = new AgentRuntime({
    config: () => ({ agents: { defaults: { model: "gated/m" } } }),
    env: {},
    now: () => Date.now(),
    logger: createLogger({ sinks: [new MemoryLogSink()] }),
    stores: completeStores({ sessions, transcripts }),
    fetch: () => Promise.reject(new Error("no network")),
    providers: { gated: provider },
  });
  return { runtime, sessions };
}

const turn = { sessionKey: "agent:main:main", agentId: "main", origin: { kind: "chat" as const } };

Deno.test("the model is called before the input is durable, and the reply is written after it", async () => {
  const transcripts = new GatedTranscripts();
  const model = gatedProvider();
  const { runtime, sessions } = runtimeWith(transcripts, model.provider);
  const handle = runtime.startTurn({ ...turn, messages: [{ role: "user", content: "hi" }] });
  await model.called; // the input write is still held at the gate
  let recorded = false;
  handle.recorded.then(() => recorded = true);
  model.finish.resolve();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(recorded, false, "the input is not reported durable before it is written");
  assert.equal((await sessions.get(turn.sessionKey))?.lastRunId, undefined, "the run waits for its input");
  transcripts.gate.resolve();
  const outcome = await handle.done;
  assert.equal(outcome.status, "ok");
  assert.equal(recorded, true);
  const session = (await sessions.get(turn.sessionKey))!;
  const lines = await transcripts.read({ agentId: "main", sessionId: session.sessionId });
  assert.deepEqual(lines.map((l) => [l.seq, l.role]), [[1, "user"], [2, "assistant"]]);
});

Deno.test("an input that cannot be written fails the turn and cancels the model call", async () => {
  const transcripts = new GatedTranscripts();
  const model = gatedProvider();
  const { runtime } = runtimeWith(transcripts, model.provider);
  const handle = runtime.startTurn({ ...turn, messages: [{ role: "user", content: "hi" }] });
  await model.called;
  transcripts.gate.reject(new Error("ENOSPC: no space left on device"));
  await assert.rejects(handle.recorded, /ENOSPC/);
  const outcome = await handle.done;
  assert.equal(outcome.status, "error");
  assert.match(String(outcome.cause), /ENOSPC/);
  assert.equal(model.signal()?.aborted, true, "the model call is cancelled");
  assert.deepEqual(await transcripts.read({ agentId: "main", sessionId: outcome.sessionId }), []);
});
