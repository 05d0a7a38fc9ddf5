// Two real `openclaw gateway run` replicas on one real redis-server (`appendfsync always`): a chat.send that
// replica A acknowledged while it waited behind A's own slow turn survives the SIGKILL of A: replica B
// finds it in the turn queue, takes the session once A's lease lapsed, writes the message and runs its turn.
import assert from "node:assert/strict";
import { join } from "node:path";
import { SESSION_LEASE_TTL_MS } from "../lib/agents/session-lease.ts";
import { connectParams, historyText } from "./_helpers.ts";
import { handshake, type WsSession } from "./_evidence_clients.ts";
import { REDIS_SERVER, startRedisServer } from "./_redis_server.ts";
import { freePort, runnerEnv, type RunnerProcess, spawnRunner, tempHome } from "./_runner_process.ts";

const TOKEN = "turn-queue-cluster-token-0123456789";
/** Peers and singletons lapse this fast here, so the wait is the session lease's own TTL. */
const CLUSTER_TTL_MS = 1_500;

type Json = Record<string, unknown>;

/** An upstream whose turn saying "hold" never finishes; any other turn is answered "Reply to: <message>". */
function scriptedUpstream() {
  const held: string[] = [];
  const encoder = new TextEncoder();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const body = await request.json() as { messages: { role: string; content: string }[] };
    const last = body.messages.findLast((m) => m.role === "user")?.content ?? "";
    const chunk = (delta: Json, finish: string | null = null) =>
      `data: ${
        JSON.stringify({
          id: "x",
          object: "chat.completion.chunk",
          choices: [{ index: 0, delta, finish_reason: finish }],
        })
      }\n\n`;
    if (last === "hold") {
      held.push(last);
      const stream = new ReadableStream<Uint8Array>({
        start: (controller) =>
          controller.enqueue(encoder.encode(chunk({ role: "assistant", content: "Hold" }))),
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    }
    const text = chunk({ role: "assistant", content: `Reply to: ${last}` }) + chunk({}, "stop") +
      "data: [DONE]\n\n";
    return new Response(text, { headers: { "content-type": "text/event-stream" } });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/v1`, held, close: () => server.shutdown() };
}

async function startReplica(redisUrl: string, upstream: string) {
  const home = await tempHome();
  const port = freePort();
  const config = {
    gateway: {
      mode: "local",
      port,
      auth: { token: TOKEN },
      cluster: { keyPrefix: "tq:", leaseTtlMs: CLUSTER_TTL_MS },
    },
    agents: { defaults: { model: { primary: "up/m" } } },
    models: {
      providers: { up: { baseUrl: upstream, apiKey: "k", api: "openai-completions", models: [{ id: "m" }] } },
    },
  };
  await Deno.writeTextFile(join(home.state, "openclaw.json"), JSON.stringify(config));
  const proc: RunnerProcess = spawnRunner(
    ["gateway"],
    runnerEnv(home.home, { OPENCLAW_REDIS_URL: redisUrl }),
  );
  return { port, proc, home };
}

async function operator(port: number) {
  const { session, response } = await handshake(
    `ws://127.0.0.1:${port}`,
    connectParams({ auth: { token: TOKEN } }),
  );
  assert.equal(response.ok, true, JSON.stringify(response));
  return {
    session,
    async request(method: string, params: Json = {}): Promise<Json> {
      const answer = await session.request(method, params, 10_000);
      assert.equal(answer.ok, true, `${method}: ${JSON.stringify(answer.error)}`);
      return answer.payload as Json;
    },
  };
}

Deno.test({
  name: "kill -9 of the replica running a waiting `agent` call, whose client retries it on B: it runs once",
  ignore: !REDIS_SERVER,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const redis = await startRedisServer(freePort(), { appendfsync: "always" });
    const upstream = scriptedUpstream();
    const [a, b] = await Promise.all([
      startReplica(redis.url, upstream.url),
      startReplica(redis.url, upstream.url),
    ]);
    const sessions: WsSession[] = [];
    try {
      await Promise.all([a, b].map((r) => r.proc.waitFor(/gateway listening/, 90_000)));
      const onA = await operator(a.port);
      const onB = await operator(b.port);
      sessions.push(onA.session, onB.session);
      await onA.request("chat.send", { sessionKey: "main", message: "hold", idempotencyKey: "tq-1" });
      const deadline = Date.now() + 10_000;
      while (!upstream.held.length) {
        assert.ok(Date.now() < deadline, "the first turn never reached the model");
        await new Promise((r) => setTimeout(r, 20));
      }
      const params = { sessionKey: "main", message: "second", idempotencyKey: "tq-2" };
      const ack = await onA.request("agent", params);
      assert.equal(ack.status, "accepted");
      a.proc.child.kill("SIGKILL");
      await a.proc.status;
      // The client reconnects to B and retries its call with the same key (answered once the claim lapsed).
      const retried = await onB.session.request("agent", params, 60_000);
      assert.equal(retried.ok, true, JSON.stringify(retried));
      const texts = async () =>
        ((await onB.request("chat.history", { sessionKey: "main" })).messages as { content: string }[])
          .map(historyText);
      await new Promise((r) => setTimeout(r, SESSION_LEASE_TTL_MS + 8_000));
      assert.deepEqual(await texts(), ["hold", "second", "Reply to: second"]);
    } finally {
      for (const s of sessions) s.ws.terminate();
      for (const r of [a, b]) {
        await r.proc.stop("SIGKILL").catch(() => {});
        await r.home[Symbol.asyncDispose]();
      }
      await upstream.close();
      await redis.stop();
    }
  },
});
