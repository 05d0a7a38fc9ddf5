// Review 8: a turn's guarded end publish (`EventBus.publishIfHeld`) that Redis answers only after the reply
// bound fails the turn on its replica, which then publishes an error end; but Redis still runs the script
// once it wakes (the lease still holds, the reply's line is in place), so the other replicas hear the
// turn's "ok" end too. A client of another replica must not hear two ends of one run (a `chat` final and
// a `chat` error, two `agent` lifecycle ends with the same seq).
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import type { Frame, MemorySocket } from "../lib/transports/memory.ts";
import { client, startGateway, TOKEN } from "./_helpers.ts";
import { recordingProvider } from "./_scripted_runtime.ts";
import { redisTest } from "./_redis_server.ts";

const SESSION = "agent:main:main";
const config = {
  gateway: { auth: { mode: "token" as const, token: TOKEN } },
  agents: { defaults: { model: "rec/m" } },
};

/** What `socket` hears about run `runId` within `ms`: its `chat` states and `agent` lifecycle phases with seq. */
async function endsHeard(socket: MemorySocket, runId: string, ms: number): Promise<string[]> {
  const heard: string[] = [];
  const until = Date.now() + ms;
  const note = (frame: Frame) => {
    const p = frame.payload as {
      runId?: string;
      state?: string;
      seq?: number;
      stream?: string;
      data?: { phase?: string };
    };
    if (p?.runId !== runId) return;
    if (frame.event === "chat" && p.state !== "delta") heard.push(`chat ${p.state}`);
    if (frame.event === "agent" && p.stream === "lifecycle" && p.data?.phase !== "start") {
      heard.push(`agent lifecycle ${p.data?.phase} #${p.seq}`);
    }
  };
  for (const frame of socket.skipped.splice(0)) note(frame);
  while (Date.now() < until) {
    const frame = await socket.waitFor(() => true, Math.max(1, until - Date.now())).catch(() => undefined);
    if (frame) note(frame);
  }
  return heard;
}

redisTest(
  "review8: a guarded end publish that Redis runs after the reply bound does not give another replica's clients a second end",
  async (redis) => {
    const bundles = [await redis.stores({ keyPrefix: "late:" }), await redis.stores({ keyPrefix: "late:" })];
    const gateways = await Promise.all(
      bundles.map((stores) =>
        startGateway({
          config,
          stores,
          modules: [agentsModule({ providers: { rec: recordingProvider().provider } })],
        })
      ),
    );
    const admin = await redis.client();
    const bus = bundles[0].bus;
    const original = bus.publishIfHeld!.bind(bus);
    let freeze = false;
    // The server stops answering just as the turn's last batch goes out (a frozen host, a partition).
    bus.publishIfHeld = async (events, guard) => {
      if (freeze) await admin.sendCommand(["CLIENT", "PAUSE", "4500", "ALL"]);
      return await original(events, guard);
    };
    const [sender, watcher] = await Promise.all(gateways.map((g) => client(g)));
    try {
      assert.equal((await watcher.request("sessions.messages.subscribe", { key: SESSION })).ok, true);
      assert.equal((await watcher.request("sessions.subscribe", {})).ok, true);
      // A first turn, so the session and its transcript exist and the next reply's seq is predicted.
      assert.equal(
        (await sender.request("chat.send", { sessionKey: "main", message: "a", idempotencyKey: "warm" })).ok,
        true,
      );
      await endsHeard(watcher.socket, "warm", 1_000);
      freeze = true;
      const sent = await sender.request("chat.send", {
        sessionKey: "main",
        message: "b",
        idempotencyKey: "late",
      });
      assert.equal(sent.ok, true);
      const [bySender, byWatcher] = await Promise.all([
        endsHeard(sender.socket, "late", 8_000),
        endsHeard(watcher.socket, "late", 8_000),
      ]);
      assert.ok(
        bySender.includes("chat error"),
        `the sender is told the turn failed: ${JSON.stringify(bySender)}`,
      );
      const terminal = byWatcher.filter((e) => e.startsWith("chat "));
      assert.equal(
        terminal.length,
        1,
        `one end of the run on the other replica: ${JSON.stringify(byWatcher)}`,
      );
      assert.deepEqual(
        terminal,
        bySender.filter((e) => e.startsWith("chat ")),
        "both replicas' clients hear the same end",
      );
    } finally {
      for (const c of [sender, watcher]) c.socket.close();
      for (const gateway of gateways) await gateway.stop();
    }
  },
);
