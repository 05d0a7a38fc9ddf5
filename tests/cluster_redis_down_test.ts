// Redis goes away under a running gateway: new turns (chat.send, agent, /v1/chat/completions,
// /v1/responses) fail at once with a retryable UNAVAILABLE naming Redis (503 in OpenAI's shape over HTTP),
// a turn cut off mid-way ends with an error its client sees, the replica keeps answering what needs no
// shared state, and it works again by itself when Redis is back, with the session's transcript intact.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import {
  clusterModule,
  createGateway,
  type Frame,
  type Gateway,
  type GatewayConfig,
  type MemorySocket,
  memoryTransport,
  openAiHttpModule,
} from "../mod.ts";
import { type RedisStores, redisStores } from "../stores/redis.ts";
import { client, connect, connectParams, TOKEN } from "./_helpers.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";
import { IGNORE_WITHOUT_REDIS, startDurableRedisServer } from "./_redis_server.ts";
import { freePort } from "./_runner_process.ts";
import { completionChunk, sseEvent } from "./_upstream.ts";

const ignore = IGNORE_WITHOUT_REDIS;
const SESSION = "agent:main:main";

/**
 * An OpenAI-compatible upstream that answers "Quick." at once, except to a last message "during": that
 * answer streams "Hold" and finishes (" on.") only once `open()` is called.
 */
function gatedUpstream() {
  let gate = Promise.withResolvers<void>();
  const encoder = new TextEncoder();
  const chunk = (delta: unknown, finish: string | null = null) =>
    sseEvent(completionChunk("u", delta, finish));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const body = await request.json();
    const gated = body.messages.at(-1)?.content === "during";
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode(chunk({ role: "assistant", content: gated ? "Hold" : "Quick." })));
        if (gated) {
          await gate.promise;
          controller.enqueue(encoder.encode(chunk({ content: " on." })));
        }
        controller.enqueue(encoder.encode(chunk({}, "stop") + "data: [DONE]\n\n"));
        controller.close();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    open() {
      gate.resolve();
      gate = Promise.withResolvers<void>();
    },
    close() {
      gate.resolve();
      return server.shutdown();
    },
  };
}

function config(upstreamUrl: string): GatewayConfig {
  return {
    gateway: {
      auth: { mode: "token", token: TOKEN },
      http: { endpoints: { chatCompletions: { enabled: true }, responses: { enabled: true } } },
    },
    models: {
      providers: {
        up: {
          baseUrl: upstreamUrl,
          apiKey: "k",
          api: "openai-completions",
          models: [{ id: "quick" }],
        },
      },
    },
    agents: { defaults: { model: { primary: "up/quick" } } },
  } as GatewayConfig;
}

/** The UNAVAILABLE error every store outage answers with, as a frame carries it. */
function assertRedisDown(frame: Frame, what: string): void {
  assert.equal(frame.ok, false, `${what} must fail while Redis is down`);
  const error = frame.error as Record<string, unknown>;
  assertMatchesSchema("ErrorShape", error);
  assert.equal(error.code, "UNAVAILABLE", what);
  assert.equal(error.retryable, true, what);
  assert.equal(error.retryAfterMs, 1_000, what);
  assert.match(String(error.message), /Redis .* is unreachable/, what);
  assert.deepEqual(error.details, { code: "REDIS_UNAVAILABLE" }, what);
}

/** The `chat` event of `runId` (in `state`, if given) on `socket`, already passed over or still to come. */
async function chatEvent(socket: MemorySocket, runId: string, state?: string): Promise<Frame> {
  const match = (f: Frame) => {
    const payload = f.payload as Record<string, unknown> | undefined;
    return f.type === "event" && f.event === "chat" && payload?.runId === runId &&
      (state === undefined || payload.state === state);
  };
  return socket.skipped.find(match) ?? await socket.waitFor(match);
}

async function post(
  gateway: { fetch: (path: string, init: RequestInit) => Promise<Response> },
  path: string,
  body: unknown,
) {
  const response = await gateway.fetch(path, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

Deno.test({
  name:
    "Redis killed between and during turns: fast retryable errors, the replica stays up, and recovers by itself",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "openclaw-redis-down-" });
    const port = freePort();
    let server = await startDurableRedisServer(dir, port);
    const upstream = gatedUpstream();
    const transport = memoryTransport();
    let stores: RedisStores | undefined;
    let gateway: Gateway | undefined;
    try {
      stores = await redisStores({ url: server.url, keyPrefix: "down:", onError: () => {} });
      const redis = stores;
      const agents = agentsModule();
      gateway = createGateway({
        config: config(upstream.url),
        transport,
        stores,
        modules: [
          agents,
          openAiHttpModule({ agents }),
          clusterModule({
            backend: {
              kind: "redis",
              url: stores.displayUrl,
              keyPrefix: "down:",
              connected: () => redis.connected,
            },
          }),
        ],
      });
      await gateway.start();
      const c = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
      let key = 0;
      const send = (message: string) =>
        c.request("chat.send", { sessionKey: "main", message, idempotencyKey: `k${++key}` });

      const first = await send("before");
      assert.equal(first.ok, true, JSON.stringify(first.error));
      const firstRun = (first.payload as { runId: string }).runId;
      await chatEvent(c.socket, firstRun, "final");

      // Mid-turn: the input is saved, the reply cannot be.
      const gatedTurn = await send("during");
      assert.equal(gatedTurn.ok, true, JSON.stringify(gatedTurn.error));
      const gatedRun = (gatedTurn.payload as { runId: string }).runId;
      await chatEvent(c.socket, gatedRun);
      await server.kill();
      upstream.open();
      const failed = await chatEvent(c.socket, gatedRun, "error");
      assert.match(
        String((failed.payload as Record<string, unknown>).errorMessage),
        /Redis .* is unreachable/,
      );

      // Between turns: every way to start one fails at once, naming Redis.
      const started = Date.now();
      assertRedisDown(await send("refused"), "chat.send");
      assertRedisDown(
        await c.request("agent", { sessionKey: SESSION, message: "refused", idempotencyKey: `k${++key}` }),
        "agent",
      );
      for (
        const [path, body] of [
          ["/v1/chat/completions", {
            model: "openclaw",
            user: "u1",
            messages: [{ role: "user", content: "hi" }],
          }],
          ["/v1/chat/completions", { model: "openclaw", messages: [{ role: "user", content: "hi" }] }],
          ["/v1/responses", { model: "openclaw", input: "hi" }],
        ] as const
      ) {
        const answer = await post(transport, path, body);
        assert.equal(answer.status, 503, `${path}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.headers.get("retry-after"), "1");
        assert.equal(answer.body.error.type, "api_error");
        assert.equal(answer.body.error.code, "unavailable");
        assert.match(answer.body.error.message, /Redis .* is unreachable/);
      }
      assert.ok(Date.now() - started < 2_000, `refusals took ${Date.now() - started} ms`);

      // What needs no shared state still answers.
      assert.equal((await transport.fetch("/health")).status, 200);
      const status = await c.request("status", {});
      assert.equal(status.ok, true, JSON.stringify(status.error));
      const cluster = (status.payload as { cluster: Record<string, unknown> }).cluster;
      assert.equal((cluster.redis as { connected: boolean }).connected, false);
      // A new connection from the LAN cannot be checked against the shared lockouts: it is told why.
      const late = await connect(gateway, connectParams(), { remoteAddress: "192.0.2.10" });
      assertRedisDown(late.response, "connect");
      late.socket.close();
      // A local one needs no lockout check: it is admitted, with the presence rows last read.
      const local = await connect(gateway);
      assert.equal(local.response.ok, true, JSON.stringify(local.response.error));
      local.socket.close();

      // Redis comes back on its own data; the gateway reconnects without a restart.
      server = await startDurableRedisServer(dir, port);
      const deadline = Date.now() + 15_000;
      let after: Frame;
      for (;;) {
        after = await send("after");
        if (after.ok || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(after.ok, true, JSON.stringify(after.error));
      await chatEvent(c.socket, (after.payload as { runId: string }).runId, "final");

      const session = await redis.sessions.get(SESSION);
      const lines = await redis.transcripts.read({
        agentId: session!.agentId,
        sessionId: session!.sessionId,
      });
      assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i + 1), "seq has no gap or repeat");
      assert.deepEqual(
        lines.map((l) => `${l.role}:${l.content}`),
        ["user:before", "assistant:Quick.", "user:during", "user:after", "assistant:Quick."],
        "the cut-off turn kept its input and wrote no reply",
      );
      const history = await c.request("chat.history", { sessionKey: "main" });
      assert.equal(history.ok, true);
      c.socket.close();
    } finally {
      await gateway?.stop();
      await stores?.close();
      await upstream.close();
      await server.kill();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
