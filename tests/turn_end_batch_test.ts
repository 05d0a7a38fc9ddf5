// Once a turn's final is out, what it still writes — its run's end record, the event telling every replica
// (their `agent.wait` callers) that it ended, and its session lease's release — goes to Redis in one batch:
// one fsync under `appendfsync always` instead of three round trips and two fsyncs, which otherwise land
// in the middle of the next turn's first batches (a turn sent right after the final) and hold its events.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { redisStores } from "../stores/redis.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";
import { firstKey, relay, type SentChunk } from "./_redis_relay.ts";
import { recordingProvider } from "./_scripted_runtime.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";

/** A model that answers at once, as the bench's local one does: its events and the turn's end writes are due in the same tick. */
const instantModel = recordingProvider().provider;

const isFinal = (runId: string) => (f: Frame) =>
  f.event === "chat" && (f.payload as { runId: string; state: string }).runId === runId &&
  (f.payload as { state: string }).state === "final";

/** What a chunk carries: `NAME key` per command, and `PUBLISH <event>` for a bus event. */
const described = (chunk: SentChunk) =>
  chunk.commands.map((command, i) =>
    command === "PUBLISH"
      ? `PUBLISH ${(JSON.parse(chunk.args[i][1]) as { event: { event: string } }).event.event}`
      : `${command} ${firstKey(command, chunk.args[i]) ?? ""}`.trim()
  );

if (REDIS_SERVER) {
  Deno.test("a turn's end record, its run-ended event and its lease's release reach Redis in one batch", async () => {
    const server = await startRedisServer(undefined, { appendfsync: "always" });
    const log: SentChunk[] = [];
    const proxy = relay(server.url, log);
    const stores = await redisStores({ url: proxy.url, keyPrefix: "te:" });
    const gateway = await startGateway({
      config: {
        gateway: { auth: { mode: "token" as const, token: TOKEN } },
        agents: { defaults: { model: "rec/m" } },
      },
      stores,
      modules: [agentsModule({ providers: { rec: instantModel } })],
    });
    try {
      const sender = await client(gateway);
      for (const key of ["first", "second"]) {
        const answer = await sender.request("chat.send", {
          sessionKey: "main",
          message: key,
          idempotencyKey: key,
        });
        assert.deepEqual(answer.payload, { runId: key, status: "started" });
        await (sender.socket.skipped.find(isFinal(key)) ?? sender.socket.waitFor(isFinal(key)));
        // The turn's last writes go after its final.
        await new Promise((r) => setTimeout(r, 50));
        const chunks = log.map(described);
        const release = "EVALSHA te:lease:session:agent:main:main";
        const holding = (command: string) => chunks.filter((c) => c.includes(command));
        // The record is written twice (as running with the input, then as ended): the end is the last.
        const endRecord = holding(`EVALSHA te:run:${key}`).at(-1)!;
        assert.ok(endRecord.includes("PUBLISH agents.run.ended"), `the event: ${JSON.stringify(endRecord)}`);
        assert.ok(endRecord.includes(release), `the release: ${JSON.stringify(endRecord)}`);
        assert.equal(
          endRecord.indexOf("PUBLISH agents.run.ended") > endRecord.indexOf(`EVALSHA te:run:${key}`),
          true,
          "the event after the record it announces",
        );
        assert.equal((await stores.runs.get(key))?.state, "ok");
        log.length = 0;
      }
      sender.socket.close();
    } finally {
      await gateway.stop();
      await stores.close();
      await proxy.close();
      await server.stop();
    }
  });
}
