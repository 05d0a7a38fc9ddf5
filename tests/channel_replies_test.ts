// Replies of channel and hook turns: answered once durable, retried when the service refuses them for a
// moment, sent for turns still running when the gateway stops, and sent for embedder-supplied turns.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { type AgentTurns, channelsModule } from "../lib/channels/mod.ts";
import { REPLY_ATTEMPTS, REPLY_RETRY_BUDGET_MS } from "../lib/channels/replies.ts";
import { GatewayError } from "../lib/errors.ts";
import { hooksModule } from "../lib/hooks/mod.ts";
import { memoryStores } from "../lib/state/stores.ts";
import { MemoryTurnQueue, type QueuedTurn } from "../lib/state/turn-queue.ts";
import { createGateway, type LogRecord } from "../mod.ts";
import { BOT_TOKEN, type FakeTelegram, startFakeTelegram } from "./_fake_telegram.ts";
import { pollUntil, TOKEN } from "./_helpers.ts";
import { recordingProvider } from "./_scripted_runtime.ts";

const HOOK_TOKEN = "hook-token-0123456789";

Deno.test("/hooks/wake with mode now whose input could not be saved answers the retryable 503", async () => {
  const held = Promise.withResolvers<void>();
  let calls = 0;
  const model = recordingProvider(() => ++calls === 1 ? held.promise : Promise.resolve());
  const agents = agentsModule({ providers: { rec: model.provider } });
  const turnQueue = new (class extends MemoryTurnQueue {
    override enqueue(_turn: QueuedTurn): Promise<void> {
      return Promise.reject(new GatewayError("UNAVAILABLE", "redis is unreachable", { retryable: true }));
    }
  })();
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      agents: { defaults: { model: "rec/m" } },
      hooks: { enabled: true, token: HOOK_TOKEN, defaultSessionKey: "main" },
    },
    stores: { ...memoryStores(), turnQueue },
    modules: [agents, hooksModule({ agents })],
  });
  await gateway.start();
  const hook = (path: string, body: unknown) =>
    gateway.fetch(
      new Request(`http://gw/hooks/${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
  try {
    const first = await hook("agent", { message: "hold" });
    assert.equal(first.status, 200);
    await first.body?.cancel();
    await pollUntil(() => calls === 1, 5_000, "the first turn to reach the model");
    // The main session is busy: the wake's turn waits, and its queue write fails.
    const response = await hook("wake", { text: "disk almost full", mode: "now" });
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.equal(body.ok, false);
    assert.match(String(body.error), /redis is unreachable/);
  } finally {
    held.resolve();
    await gateway.stop();
  }
});

Deno.test("hooks on embedder-supplied turns (hooksModule({ turns })) send the reply to the hook's recipient", async () => {
  const sent: { to: string; text: string }[] = [];
  const fetch = (_input: string | URL | Request, init?: RequestInit) => {
    sent.push(JSON.parse(String(init?.body)));
    return Promise.resolve(new Response(null, { status: 204 }));
  };
  // An embedder without the agents module runs hook calls with its own turns, as the option allows.
  const turns: AgentTurns = {
    start: (request) => ({
      runId: crypto.randomUUID(),
      agentId: "main",
      sessionKey: request.sessionKey ?? "main",
      done: Promise.resolve({ status: "ok", text: `echo: ${request.message}` }),
    }),
    hasAgent: () => true,
    defaultAgentId: () => "main",
    sessionKey: (_agentId, sessionKey) => sessionKey ?? "main",
  };
  const channels = channelsModule({ fetch });
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      hooks: { enabled: true, token: HOOK_TOKEN, allowedTargets: ["*"] },
      channels: { webhook: { secret: "webhook-shared-secret", outboundUrl: "http://127.0.0.1:9/replies" } },
    },
    modules: [channels, hooksModule({ turns, channels })],
  });
  await gateway.start();
  try {
    const response = await gateway.fetch(
      new Request("http://gw/hooks/agent", {
        method: "POST",
        headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ message: "build failed", channel: "webhook", to: "ops" }),
      }),
    );
    assert.equal(response.status, 200);
    await response.body?.cancel();
    await pollUntil(() => sent.length === 1, 5_000, "the embedder's turn's reply");
    assert.deepEqual({ to: sent[0].to, text: sent[0].text }, { to: "ops", text: "echo: build failed" });
  } finally {
    await gateway.stop();
  }
});

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** A gateway answering Telegram chat 7 with the model's "ok"; `fetch` is the channel's outbound fetch. */
async function telegramGateway(api: FakeTelegram, fetch: Fetch, records: LogRecord[] = []) {
  const agents = agentsModule({ providers: { rec: recordingProvider().provider } });
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      agents: { defaults: { model: "rec/m" } },
      channels: {
        telegram: { botToken: BOT_TOKEN, apiRoot: api.url, pollTimeoutSeconds: 1, allowFrom: ["7"] },
      },
    },
    logSinks: [{ write: (record) => void records.push(record) }],
    modules: [agents, channelsModule({ agents, fetch })],
  });
  await gateway.start();
  return gateway;
}

/** `fetch`, with every sendMessage answered by `refuse(attempt, url)` when it returns an answer. */
function refusingSends(refuse: (attempt: number, url: string) => Response | Promise<Response> | undefined) {
  const state = { attempts: 0 };
  const via: Fetch = async (input, init) => {
    if (String(input).endsWith("/sendMessage")) {
      const refusal = refuse(++state.attempts, String(input));
      if (refusal) return await refusal;
    }
    return await fetch(input, init);
  };
  return { via, state };
}

const tooManyRequests = () =>
  Response.json({
    ok: false,
    error_code: 429,
    description: "Too Many Requests",
    parameters: { retry_after: 0 },
  }, {
    status: 429,
  });

Deno.test("a reply the Bot API keeps refusing is tried a bounded number of times, then given up with its chat logged", async () => {
  const api = startFakeTelegram();
  // The last attempt meets a real network failure, on the URL that holds the bot token.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const nowhere = `http://127.0.0.1:${closed.addr.port}`;
  closed.close();
  const sends = refusingSends((attempt, url) =>
    attempt < REPLY_ATTEMPTS ? tooManyRequests() : fetch(url.replace(api.url, nowhere))
  );
  const records: LogRecord[] = [];
  const gateway = await telegramGateway(api, sends.via, records);
  try {
    api.push("question");
    const gaveUp = () => records.find((r) => r.msg === "channel reply not sent; giving up");
    await pollUntil(() => gaveUp() !== undefined, 5_000, "the reply to be given up");
    assert.equal(sends.state.attempts, REPLY_ATTEMPTS);
    const record = gaveUp()!;
    assert.equal(record.channel, "telegram");
    assert.equal(record.chat, "7");
    assert.match(String(record.error), /^TypeError/, "the give-up names the last failure");
    assert.ok(!JSON.stringify(records).includes(BOT_TOKEN), "a log record carries the bot token");
  } finally {
    await gateway.stop();
    await api.close();
  }
});

Deno.test("a reply the Bot API refuses for good (400) is not sent again", async () => {
  const api = startFakeTelegram();
  const sends = refusingSends(() =>
    Response.json({ ok: false, error_code: 400, description: "Bad Request: chat not found" }, { status: 400 })
  );
  const records: LogRecord[] = [];
  const gateway = await telegramGateway(api, sends.via, records);
  try {
    api.push("question");
    await pollUntil(
      () => records.some((r) => r.msg === "channel reply not sent; giving up"),
      5_000,
      "the reply to be given up",
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sends.state.attempts, 1);
  } finally {
    await gateway.stop();
    await api.close();
  }
});

Deno.test("a reply that met a 5xx or a network failure is sent again after a backoff", async () => {
  const api = startFakeTelegram();
  const sends = refusingSends((attempt) => {
    if (attempt === 1) return new Response("bad gateway", { status: 502 });
    if (attempt === 2) throw new TypeError("error sending request: connection reset");
    return undefined;
  });
  const gateway = await telegramGateway(api, sends.via);
  try {
    api.push("question");
    await pollUntil(() => api.calls.some((c) => c.method === "sendMessage"), 8_000, "the reply, third time");
    assert.equal(sends.state.attempts, 3);
  } finally {
    await gateway.stop();
    await api.close();
  }
});

Deno.test("a reply whose retry_after lies past the retry budget is given up at once, not waited for", async () => {
  const api = startFakeTelegram();
  const retryAfterS = REPLY_RETRY_BUDGET_MS / 1000 + 60;
  const sends = refusingSends(() =>
    Response.json({
      ok: false,
      error_code: 429,
      description: "Too Many Requests",
      parameters: { retry_after: retryAfterS },
    }, { status: 429 })
  );
  const records: LogRecord[] = [];
  const gateway = await telegramGateway(api, sends.via, records);
  try {
    api.push("question");
    await pollUntil(
      () => records.some((r) => r.msg === "channel reply not sent; giving up"),
      5_000,
      "the reply to be given up",
    );
    assert.equal(sends.state.attempts, 1);
  } finally {
    await gateway.stop();
    await api.close();
  }
});

Deno.test("at a stop, the turns of a chat still running or waiting behind them still send their replies", async () => {
  const api = startFakeTelegram();
  const held = Promise.withResolvers<void>();
  let calls = 0;
  const model = recordingProvider(() => ++calls === 1 ? held.promise : Promise.resolve());
  const agents = agentsModule({ providers: { rec: model.provider } });
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      agents: { defaults: { model: "rec/m" } },
      channels: {
        telegram: { botToken: BOT_TOKEN, apiRoot: api.url, pollTimeoutSeconds: 1, allowFrom: ["7"] },
      },
    },
    modules: [agents, channelsModule({ agents })],
  });
  await gateway.start();
  const message = (id: number, text: string) => ({
    message: { message_id: id, text, chat: { id: 7, type: "private" }, from: { id: 7 } },
  });
  try {
    api.pushUpdate(message(701, "first"));
    await pollUntil(() => calls === 1, 5_000, "the first turn to reach the model");
    const second = api.pushUpdate(message(702, "second"));
    // Taken once polling asks past it: its turn waits behind the first in the chat's session.
    await pollUntil(
      () => api.calls.some((c) => c.method === "getUpdates" && Number(c.body.offset) > second),
      5_000,
      "the second message to be taken",
    );
    await gateway.stop({ reason: "restart requested (SIGUSR1)" });
    held.resolve();
    const replied = () =>
      api.calls.filter((c) => c.method === "sendMessage")
        .map((c) => (c.body.reply_parameters as { message_id: number }).message_id);
    await pollUntil(() => replied().length === 2, 5_000, "both replies");
    assert.deepEqual(replied().sort(), [701, 702]);
  } finally {
    held.resolve();
    await gateway.stop();
    await api.close();
  }
});
