// The Redis round trips one `chat.send` turn costs a real `gateway run` replica (the runner's wiring: its
// tool host, which lists the connected nodes of every replica, its run ledger, its session leases), with
// `appendfsync always`: one batch before the model (the idempotency claim, the run record, the lease
// attempt, the nodes list, the session and transcript reads and the guarded input), the first events in a
// batch with no write, the reply with the session row and the claim's outcome (the end events behind them,
// in the same batch), and the run's end with the lease's release. Counted by Redis itself
// (`total_reads_processed`: one per socket read, pipelined commands sharing one), so a round trip that
// sneaks onto the turn fails this test. And a
// turn of a session sent right after its previous turn's final neither waits for that turn's lease release
// to be answered (an fsync) nor queues meanwhile: its lease attempt goes behind the release, with its claim.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "redis";
import { agentsModule } from "../lib/agents/mod.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { MemoryLeaseStore } from "../lib/state/leases.ts";
import { redisStores } from "../stores/redis.ts";
import { client, connectParams, startGateway, TOKEN as GATEWAY_TOKEN } from "./_helpers.ts";
import { handshake } from "./_evidence_clients.ts";
import { firstKey, relay, type SentChunk } from "./_redis_relay.ts";
import { recordingProvider } from "./_scripted_runtime.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";
import { freePort, runnerEnv, spawnRunner, tempHome } from "./_runner_process.ts";

const TOKEN = "turn-roundtrips-token-0123456789";
/** W1 (everything before the model), P1 (first events), W2 (reply, with the end events behind it), W3 (end, release). */
const ROUND_TRIPS_PER_TURN = 4;
const TURNS = 20;
/**
 * Reads of the replica's own timers that may fall in the counted window (its peer row's and presence
 * row's renewals, its change feed's liveness ping): never a turn's.
 */
const BACKGROUND_READS = 3;

if (!REDIS_SERVER && !Deno.env.get("CI")) {
  Deno.test({ name: "turn round trips on Redis (redis-server not installed)", ignore: true, fn() {} });
} else {
  Deno.test("a chat.send turn on a replica costs Redis at most four round trips", async () => {
    const redis = await startRedisServer(undefined, { appendfsync: "always" });
    await using home = await tempHome();
    const port = freePort();
    await Deno.writeTextFile(
      join(home.state, "openclaw.json"),
      JSON.stringify({
        gateway: { mode: "local", port, auth: { token: TOKEN }, cluster: { keyPrefix: "tr:" } },
        agents: { defaults: { model: { primary: "local/scripted-1" } } },
        logging: { level: "warn" },
      }),
    );
    const replica = spawnRunner(["gateway"], runnerEnv(home.home, { OPENCLAW_REDIS_URL: redis.url }));
    const raw = createClient({ url: redis.url });
    try {
      await replica.waitFor(/gateway listening/, 60_000);
      await raw.connect();
      const { session, response } = await handshake(
        `ws://127.0.0.1:${port}`,
        connectParams({ auth: { token: TOKEN } }),
      );
      assert.equal(response.ok, true, JSON.stringify(response));
      let n = 0;
      const turn = async () => {
        const key = `turn-${++n}`;
        const final = session.waitFor(
          (f) =>
            f.event === "chat" && (f.payload as { runId: string; state: string }).runId === key &&
            (f.payload as { state: string }).state === "final",
          10_000,
        );
        // Five sessions in turn, as bench/cluster.ts counts: each turn's session known, its lease free.
        const answer = await session.request("chat.send", {
          sessionKey: `s${n % 5}`,
          message: `turn ${n}`,
          idempotencyKey: key,
        }, 10_000);
        assert.deepEqual(answer.payload, { runId: key, status: "started" });
        await final;
      };
      const reads = async () => Number(/total_reads_processed:(\d+)/.exec(await raw.info("stats"))![1]);
      // Every session once first: the replica then knows which transcript each one uses.
      for (let i = 0; i < 5; i++) await turn();
      await new Promise((r) => setTimeout(r, 200));
      const before = await reads();
      for (let i = 0; i < TURNS; i++) await turn();
      // The last turn's end and release go after its final.
      await new Promise((r) => setTimeout(r, 200));
      // Less the INFO that read the count.
      const used = await reads() - before - 1;
      assert.ok(
        used <= TURNS * ROUND_TRIPS_PER_TURN + BACKGROUND_READS,
        `${used} Redis round trips over ${TURNS} turns (${(used / TURNS).toFixed(2)} a turn)`,
      );
      session.ws.close();
      await session.ended;
    } finally {
      await raw.close().catch(() => {});
      assert.equal(await replica.stop(), 0);
      await redis.stop();
    }
  });

  Deno.test("a turn sent right after its session's previous final asks for the lease with its claim, and queues nothing", async () => {
    const redis = await startRedisServer(undefined, { appendfsync: "always" });
    const log: SentChunk[] = [];
    const proxy = relay(redis.url, log);
    const stores = await redisStores({ url: proxy.url, keyPrefix: "b2b:" });
    const gateway = await startGateway({
      config: {
        gateway: { auth: { mode: "token" as const, token: GATEWAY_TOKEN } },
        agents: { defaults: { model: "rec/m" } },
      },
      stores,
      modules: [agentsModule({ providers: { rec: recordingProvider().provider } })],
    });
    try {
      const sender = await client(gateway);
      const isFinal = (runId: string) => (f: Frame) =>
        f.event === "chat" && (f.payload as { runId: string; state: string }).runId === runId &&
        (f.payload as { state: string }).state === "final";
      const send = (key: string) =>
        sender.request("chat.send", { sessionKey: "main", message: key, idempotencyKey: key });
      assert.deepEqual((await send("first")).payload, { runId: "first", status: "started" });
      // Known to the replica now: the next turn's reads go in its first batch.
      await (sender.socket.skipped.find(isFinal("first")) ?? sender.socket.waitFor(isFinal("first")));
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual((await send("second")).payload, { runId: "second", status: "started" });
      await (sender.socket.skipped.find(isFinal("second")) ?? sender.socket.waitFor(isFinal("second")));
      // Sent the moment the final arrives: the previous turn's release is still on its way.
      const from = log.length;
      assert.deepEqual((await send("third")).payload, { runId: "third", status: "started" });
      await (sender.socket.skipped.find(isFinal("third")) ?? sender.socket.waitFor(isFinal("third")));
      await new Promise((r) => setTimeout(r, 50));
      const described = log.slice(from).map((chunk) =>
        chunk.commands.map((command, i) => `${command} ${firstKey(command, chunk.args[i]) ?? ""}`.trim())
      );
      const claim = described.find((c) => c.includes("EVALSHA b2b:idempotency:rpc:third"));
      assert.ok(
        claim?.includes("EVALSHA b2b:lease:session:agent:main:main"),
        `the lease attempt goes with the claim: ${JSON.stringify(described)}`,
      );
      assert.deepEqual(
        described.flat().filter((c) => c.includes("turn-queue")),
        [],
        "the turn was never queued",
      );
      const entry = (await stores.sessions.get("agent:main:main"))!;
      const lines = await stores.transcripts.read({ agentId: entry.agentId, sessionId: entry.sessionId });
      assert.deepEqual(lines.map((l) => l.content), ["first", "ok", "second", "ok", "third", "ok"]);
      sender.socket.close();
    } finally {
      await gateway.stop();
      await stores.close();
      await proxy.close();
      await redis.stop();
    }
  });

  Deno.test("a lease released and taken again at once, before the release is answered, is taken (memory and Redis)", async () => {
    const redis = await startRedisServer();
    const stores = await redisStores({ url: redis.url, keyPrefix: "order:" });
    try {
      for (const leases of [new MemoryLeaseStore(), stores.leases]) {
        const token = (await leases.acquire("session:s", "a/1", 60_000))!;
        assert.ok(token);
        const released = leases.release("session:s", token);
        const again = leases.acquire("session:s", "a/2", 60_000);
        await released;
        assert.ok(await again, `the acquire landed behind the release: ${leases.constructor.name}`);
      }
    } finally {
      await stores.close();
      await redis.stop();
    }
  });
}
