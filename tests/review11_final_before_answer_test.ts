// Review 11: on the Redis bus, a turn's end is handed to this replica's listeners on the guarded publish's
// answer (bus.ts `#await`), before the turn's own code and its call's outcome write go on. A `chat.send`
// caller then gets its run's final `chat` event before the call's answer (`{runId, status: "started"}`), on
// one socket; the reference answers `chat.send` before the run starts, and on e92d2b9 (the echo handed on
// after the two immediates) the answer came first here too.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";
import { redisTest } from "./_redis_server.ts";
import { recordingProvider } from "./_scripted_runtime.ts";

const TURNS = 30;

redisTest(
  "review11: redis, a chat.send caller gets the call's answer before its run's final",
  async (redis) => {
    const stores = await redis.stores();
    const gateway = await startGateway({
      config: {
        gateway: { auth: { mode: "token", token: TOKEN } },
        agents: { defaults: { model: "rec/m" } },
      },
      stores,
      modules: [agentsModule({ providers: { rec: recordingProvider().provider } })],
    });
    const sender = await client(gateway);
    try {
      const early: string[] = [];
      for (let i = 0; i < TURNS; i++) {
        const runId = `r-${i}`;
        const isFinal = (f: Frame) =>
          f.event === "chat" && (f.payload as { runId?: string; state?: string }).runId === runId &&
          (f.payload as { state?: string }).state !== "delta";
        const skippedBefore = sender.socket.skipped.length;
        const sent = await sender.request("chat.send", {
          sessionKey: "main",
          message: runId,
          idempotencyKey: runId,
        });
        assert.equal(sent.ok, true, JSON.stringify(sent.error));
        if (sender.socket.skipped.slice(skippedBefore).some(isFinal)) early.push(runId);
        else await sender.socket.waitFor(isFinal);
      }
      assert.deepEqual(
        early,
        [],
        `finals that came before their chat.send answer (${early.length}/${TURNS})`,
      );
    } finally {
      sender.socket.close();
      await gateway.stop();
    }
  },
);
