// Review of the runtime split and the run record in a turn's first batch (dec47df, b09e3bf, 4b00551,
// a666f98): each test shows one defect described in FINDINGS.md and fails on the code reviewed.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import type { ChatStreamEvent, ModelProvider } from "../lib/providers/types.ts";
import { type GatewayStores, memoryStores } from "../lib/state/stores.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";
import { redisTest } from "./_redis_server.ts";
import { MAIN_KEY, scriptedRuntime, userTurn } from "./_scripted_runtime.ts";

const config = {
  gateway: { auth: { mode: "token" as const, token: TOKEN } },
  agents: { defaults: { model: "rec/m" } },
};

/** A model that answers "ok" once `gate` (if any) lets it. */
function gatedModel(gate?: () => Promise<void>): ModelProvider {
  return {
    id: "rec",
    api: "test",
    async *streamChat(_request, signal): AsyncIterable<ChatStreamEvent> {
      if (gate) {
        await Promise.race([
          gate(),
          new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
        ]);
      }
      yield { type: "text", text: "ok" };
      yield { type: "finish", finishReason: "stop" };
    },
    completeChat: () => Promise.reject(new Error("not used")),
    embed: () => Promise.reject(new Error("not used")),
    listModels: () => Promise.resolve([]),
  };
}

const chatOf = (runId: string, state?: string) => (f: Frame) =>
  f.event === "chat" && (f.payload as { runId: string }).runId === runId &&
  (state === undefined || (f.payload as { state: string }).state === state);

// Finding 1. TurnInput.claim promises "a lost one ends the turn without a trace (no run record)". Since
// dec47df the ledger sends the first put at once with the claim's guard and relies on the run store to
// check it; MemoryRunStore.put ignores the guard, so with any run store other than Redis's (an embedder's
// network IdempotencyStore with in-process runs, a Partial<GatewayStores> mix) the duplicate leaves a
// record that never ends: an active "running" run, listed by chat.abort and hasActiveRun for the TTL.
Deno.test("a turn whose pending claim is lost leaves no run record, whatever the run store", async () => {
  const stores = memoryStores();
  const runtime = scriptedRuntime(stores);
  try {
    const won = Promise.withResolvers<boolean>();
    const handle = runtime.startTurn({
      ...userTurn("hello"),
      runId: "dup-key",
      claim: { won: won.promise, guard: { record: "idempotency:rpc:dup-key", owner: "this-call" } },
    });
    // Another call holds the key: this one is a duplicate.
    won.resolve(false);
    await handle.done;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await stores.runs.get("dup-key"), undefined, "a duplicate recorded a run");
    assert.equal(await runtime.hasActiveRun(MAIN_KEY), false, "a duplicate's record reads as an active run");
  } finally {
    runtime.close();
  }
});

// Finding 2 (predates the commits reviewed; answers "can a run record be missing for agent.wait"). A call
// answered with a retryable UNAVAILABLE (its input could not be saved) records its run (id = the call's
// idempotencyKey) as ended with that error. The client's retry, with the same key, runs under the same
// run id, and every record it writes is refused ("a record that ended is final"): agent.wait on any
// replica answers the first attempt's error at once while the retry runs, and after it succeeded.
/** Fails the next append of `stores`' transcripts (plain or guarded), as a full disk or a store error would. */
function failNextAppend(stores: GatewayStores): void {
  const transcripts = stores.transcripts;
  let failures = 1;
  const failing = <A extends unknown[], R>(write: (...args: A) => Promise<R>) => (...args: A) =>
    failures-- > 0
      ? Promise.reject(Object.assign(new Error("disk full"), { code: "ENOSPC" }))
      : write.apply(transcripts, args);
  transcripts.append = failing(transcripts.append);
  if (transcripts.appendIfHeld) transcripts.appendIfHeld = failing(transcripts.appendIfHeld);
}

/** A chat.send whose input cannot be saved, its retry (held in its model call), and agent.wait on it. */
async function retryAfterFailure(stores: GatewayStores): Promise<void> {
  failNextAppend(stores);
  const release = Promise.withResolvers<void>();
  let calls = 0;
  const gateway = await startGateway({
    config,
    stores,
    // The retry's model call waits, so the retry is still running when agent.wait asks.
    modules: [
      agentsModule({ providers: { rec: gatedModel(() => calls++ ? release.promise : Promise.resolve()) } }),
    ],
  });
  try {
    const c = await client(gateway);
    const params = { sessionKey: "main", message: "hi", idempotencyKey: "k-retry" };
    const failed = await c.request("chat.send", params);
    assert.equal(failed.ok, false);
    assert.equal((failed.error as { code: string }).code, "UNAVAILABLE");
    const retried = await c.request("chat.send", params);
    assert.equal(retried.ok, true, JSON.stringify(retried.error));
    const running = await c.request("agent.wait", { runId: "k-retry", timeoutMs: 100 });
    assert.equal(
      (running.payload as { status: string }).status,
      "timeout",
      `the retry is still running: ${JSON.stringify(running.payload)}`,
    );
    release.resolve();
    const ended = await c.request("agent.wait", { runId: "k-retry", timeoutMs: 2_000 });
    assert.equal((ended.payload as { status: string }).status, "ok", JSON.stringify(ended.payload));
    c.socket.close();
  } finally {
    release.resolve();
    await gateway.stop();
  }
}

Deno.test("agent.wait reports the retry of a failed chat.send, not the failed attempt (memory)", () =>
  retryAfterFailure(memoryStores()));

redisTest(
  "agent.wait reports the retry of a failed chat.send, not the failed attempt (redis)",
  async (redis) => retryAfterFailure(await redis.stores({ keyPrefix: "rv2:" })),
);

// Finding 3 (predates the commits reviewed; abort handling). On Redis a chat.send's key is finished once
// it is acknowledged, while its turn runs on. The same call sent again to the same replica claims the key
// ahead, loses it, and its duplicate turn (same run id) replaces the running turn in the replica's run
// registry; when the duplicate ends it takes the entry with it. The first turn can then no longer be
// aborted: chat.abort answers aborted (the run store lists it) but the abort request finds no controller.
redisTest(
  "chat.abort still stops a run after the same chat.send was sent again to its replica",
  async (redis) => {
    const stores = await redis.stores({ keyPrefix: "rv3:" });
    const release = Promise.withResolvers<void>();
    const gateway = await startGateway({
      config,
      stores,
      modules: [agentsModule({ providers: { rec: gatedModel(() => release.promise) } })],
    });
    try {
      const c = await client(gateway);
      const params = { sessionKey: "main", message: "long one", idempotencyKey: "k-dup" };
      const first = await c.request("chat.send", params);
      assert.equal(first.ok, true, JSON.stringify(first.error));
      // A client that missed the answer sends the call again (same key, same message).
      const again = await c.request("chat.send", params);
      assert.deepEqual(again.payload, first.payload);
      // Let the duplicate's turn end.
      await new Promise((r) => setTimeout(r, 200));
      const aborted = await c.request("chat.abort", { sessionKey: "main", runId: "k-dup" });
      assert.equal((aborted.payload as { aborted: boolean }).aborted, true);
      const final = await c.socket.waitFor(chatOf("k-dup", "aborted"), 2_000).catch(() => undefined);
      assert.ok(final, "the run was told to abort and went on");
      c.socket.close();
    } finally {
      release.resolve();
      await gateway.stop();
    }
  },
);
