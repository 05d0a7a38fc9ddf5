// Two real `openclaw gateway run` replicas on one redis-server, for the turn-queue tests that kill one: the
// replicas, an upstream model whose "hold" turn never ends, and an operator client.
import assert from "node:assert/strict";
import { join } from "node:path";
import { connectParams, historyText } from "./_helpers.ts";
import { handshake, type WsSession } from "./_evidence_clients.ts";
import { startRedisServer } from "./_redis_server.ts";
import { completionChunk, sseEvent } from "./_upstream.ts";
import { freePort, runnerEnv, type RunnerProcess, spawnRunner, tempHome } from "./_runner_process.ts";

const TOKEN = "turn-queue-cluster-token-0123456789";
/** Peers and singletons lapse this fast here, so the wait is the session lease's own TTL. */
export const CLUSTER_TTL_MS = 1_500;
/**
 * The replicas' `gateway.cluster.sessionLeaseTtlMs`: a dead replica's sessions are free this long after it
 * died (30 s by default), so the kill -9 tests wait that long, not the default.
 */
export const SESSION_TTL_MS = 5_000;

type Json = Record<string, unknown>;

/**
 * An upstream whose turn saying "hold" never finishes; any other turn is answered "Reply to: <message>".
 * `asked` lists the last user message of every call that reached it.
 */
export function scriptedUpstream() {
  const held: string[] = [];
  const asked: string[] = [];
  const encoder = new TextEncoder();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const body = await request.json() as { messages: { role: string; content: string }[] };
    const last = body.messages.findLast((m) => m.role === "user")?.content ?? "";
    asked.push(last);
    const chunk = (delta: Json, finish: string | null = null) =>
      sseEvent(completionChunk("x", delta, finish));
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
  return { url: `http://127.0.0.1:${server.addr.port}/v1`, held, asked, close: () => server.shutdown() };
}

/**
 * A `gateway run` replica on `redisUrl` whose model is `upstream`, in a home of its own; `extra` adds
 * top-level config sections (`channels`), `sessionTtlMs` sets `gateway.cluster.sessionLeaseTtlMs`.
 */
export async function startReplica(
  redisUrl: string,
  upstream: string,
  extra: Json = {},
  sessionTtlMs = SESSION_TTL_MS,
) {
  const home = await tempHome();
  const port = freePort();
  const config = {
    gateway: {
      mode: "local",
      port,
      auth: { token: TOKEN },
      cluster: { keyPrefix: "tq:", leaseTtlMs: CLUSTER_TTL_MS, sessionLeaseTtlMs: sessionTtlMs },
    },
    agents: { defaults: { model: { primary: "up/m" } } },
    models: {
      providers: { up: { baseUrl: upstream, apiKey: "k", api: "openai-completions", models: [{ id: "m" }] } },
    },
    ...extra,
  };
  await Deno.writeTextFile(join(home.state, "openclaw.json"), JSON.stringify(config));
  const proc: RunnerProcess = spawnRunner(
    ["gateway"],
    runnerEnv(home.home, { OPENCLAW_REDIS_URL: redisUrl }),
  );
  return { port, proc, home };
}

/** An operator client of the replica on `port`; `request` asserts each answer is ok. */
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

/**
 * Redis (`appendfsync always`), the upstream and two replicas (session leases lasting `sessionTtlMs`), with
 * an operator on each, and a turn ("hold", key `tq-1`) sent to A and held in the model: the session is busy
 * on A. Disposing kills both replicas and stops the rest.
 */
export async function twoReplicasHoldingA(sessionTtlMs = SESSION_TTL_MS) {
  const redis = await startRedisServer(freePort(), { appendfsync: "always" });
  const upstream = scriptedUpstream();
  const replicas = await Promise.all(
    [0, 1].map(() => startReplica(redis.url, upstream.url, {}, sessionTtlMs)),
  );
  const sessions: WsSession[] = [];
  const dispose = async () => {
    for (const s of sessions) s.ws.terminate();
    for (const r of replicas) {
      await r.proc.stop("SIGKILL").catch(() => {});
      await r.home[Symbol.asyncDispose]();
    }
    await upstream.close();
    await redis.stop();
  };
  try {
    await Promise.all(replicas.map((r) => r.proc.waitFor(/gateway listening/, 90_000)));
    const [onA, onB] = await Promise.all(replicas.map((r) => operator(r.port)));
    sessions.push(onA.session, onB.session);
    await onA.request("chat.send", { sessionKey: "main", message: "hold", idempotencyKey: "tq-1" });
    const deadline = Date.now() + 10_000;
    while (!upstream.held.length) {
      assert.ok(Date.now() < deadline, "the first turn never reached the model");
      await new Promise((r) => setTimeout(r, 20));
    }
    return {
      a: replicas[0],
      /** The upstream: its `held` lists every "hold" turn that reached the model, `asked` every call. */
      upstream,
      onA,
      onB,
      /** The session's history as B reads it, one text per message. */
      historyOnB: async () =>
        ((await onB.request("chat.history", { sessionKey: "main" })).messages as { content: string }[])
          .map(historyText),
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
