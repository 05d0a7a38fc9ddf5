// Review of the channel-resume merge (issue 16, durability): what a channel message or hook call is
// acknowledged with, and whether its reply goes out once, when a queue write fails, the Bot API is slow or
// failing, the gateway restarts in place, or the Telegram poller moves while a batch is in flight.
// Every test here failed on main when written (see FINDINGS.md).
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import {
  type AgentTurns,
  channelsModule,
  SIGNATURE_HEADER,
  signWebhookBody,
  TIMESTAMP_HEADER,
} from "../lib/channels/mod.ts";
import { GatewayError } from "../lib/errors.ts";
import { hooksModule } from "../lib/hooks/mod.ts";
import { type JsonDocs, MemoryJsonDocs } from "../lib/state/json-docs.ts";
import type { LeaseStore } from "../lib/state/leases.ts";
import { memoryStores } from "../lib/state/stores.ts";
import { MemoryTurnQueue, type QueuedTurn, type TurnQueue } from "../lib/state/turn-queue.ts";
import { createGateway, type Gateway, type GatewayConfig } from "../mod.ts";
import { BOT_TOKEN, type FakeTelegram, startFakeTelegram } from "./_fake_telegram.ts";
import { pollUntil, TOKEN } from "./_helpers.ts";
import { recordingProvider } from "./_scripted_runtime.ts";

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The `reply_parameters.message_id` of every sendMessage the fake Bot API got (0: none). */
function repliedTo(api: FakeTelegram): number[] {
  return api.calls.filter((c) => c.method === "sendMessage")
    .map((c) => (c.body.reply_parameters as { message_id?: number } | undefined)?.message_id ?? 0);
}

/** A model whose first turn stays in the model until `release()`; the rest answer "ok" at once. */
function heldFirstTurn() {
  const held = Promise.withResolvers<void>();
  let calls = 0;
  const model = recordingProvider(() => ++calls === 1 ? held.promise : Promise.resolve());
  return { model, calls: () => calls, release: () => held.resolve() };
}

/** A memory queue whose first `failures` writes fail as a Redis that is down does. */
class FailingQueue extends MemoryTurnQueue {
  attempts = 0;
  constructor(private failures: number) {
    super();
  }
  override async enqueue(turn: QueuedTurn): Promise<void> {
    this.attempts++;
    if (this.failures-- > 0) {
      throw new GatewayError("UNAVAILABLE", "redis is unreachable", { retryable: true });
    }
    await super.enqueue(turn);
  }
}

function telegramConfig(api: FakeTelegram, extra: Record<string, unknown> = {}): GatewayConfig {
  return {
    gateway: { auth: { mode: "token", token: TOKEN } },
    agents: { defaults: { model: "rec/m" } },
    channels: {
      telegram: { botToken: BOT_TOKEN, apiRoot: api.url, pollTimeoutSeconds: 1, allowFrom: ["7"], ...extra },
    },
  } as GatewayConfig;
}

/** One gateway with agents (model `rec/m`) and channels; `fetch` is the channels' outbound fetch. */
async function telegramGateway(
  api: FakeTelegram,
  options: {
    provider: ReturnType<typeof recordingProvider>["provider"];
    turnQueue?: TurnQueue;
    fetch?: Fetch;
    config?: GatewayConfig;
  },
): Promise<Gateway> {
  const agents = agentsModule({ providers: { rec: options.provider } });
  const gateway = createGateway({
    config: options.config ?? telegramConfig(api),
    stores: { ...memoryStores(), ...(options.turnQueue ? { turnQueue: options.turnQueue } : {}) },
    modules: [agents, channelsModule({ agents, ...(options.fetch ? { fetch: options.fetch } : {}) })],
  });
  await gateway.start();
  return gateway;
}

Deno.test("a Telegram message whose input could not be saved is not acknowledged: it is taken again and answered", async () => {
  const api = startFakeTelegram();
  const turn = heldFirstTurn();
  // The first queue write fails (Redis down for a moment); later ones work.
  const turnQueue = new FailingQueue(1);
  const gateway = await telegramGateway(api, { provider: turn.model.provider, turnQueue });
  try {
    api.push("hold");
    await pollUntil(() => turn.calls() === 1, 5_000, "the first turn to reach the model");
    // The chat's session is busy: this message's turn waits, so its input must go to the turn queue.
    const second = api.pushUpdate({
      message: { message_id: 601, text: "second", chat: { id: 7, type: "private" }, from: { id: 7 } },
    });
    await pollUntil(() => turnQueue.attempts === 1, 5_000, "the waiting turn's queue write");
    turn.release();
    // Telegram keeps an update until an offset past it is asked for; one the gateway could not save
    // must be fetched (or retried) again, not acknowledged and dropped.
    await pollUntil(() => repliedTo(api).includes(601), 10_000, `a reply to update ${second}'s message`);
  } finally {
    turn.release();
    await gateway.stop();
    await api.close();
  }
});

Deno.test("a webhook-channel message whose input could not be saved is not answered 202", async () => {
  const turn = heldFirstTurn();
  const agents = agentsModule({ providers: { rec: turn.model.provider } });
  const secret = "webhook-shared-secret";
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      agents: { defaults: { model: "rec/m" } },
      channels: { webhook: { secret, outboundUrl: "http://127.0.0.1:9/replies" } },
    },
    stores: { ...memoryStores(), turnQueue: new FailingQueue(Infinity) },
    modules: [agents, channelsModule({ agents })],
  });
  await gateway.start();
  const post = async (text: string) => {
    const body = JSON.stringify({ from: "u1", text });
    const ts = Date.now();
    const response = await gateway.fetch(
      new Request("http://gw/channels/webhook/inbound", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          [SIGNATURE_HEADER]: await signWebhookBody(secret, ts, body),
          [TIMESTAMP_HEADER]: String(ts),
        },
        body,
      }),
    );
    await response.body?.cancel();
    return response.status;
  };
  try {
    assert.equal(await post("hold"), 202, "a turn that starts at once is durable in the transcript");
    await pollUntil(() => turn.calls() === 1, 5_000, "the first turn to reach the model");
    // This one waits behind it; its queue write fails, so nothing of it survives this replica.
    const status = await post("second");
    assert.ok(status >= 500, `the sender must be told to retry (got ${status})`);
  } finally {
    turn.release();
    await gateway.stop();
  }
});

Deno.test("a Telegram webhook update whose input could not be saved is not answered 200", async () => {
  const api = startFakeTelegram();
  const turn = heldFirstTurn();
  const webhookSecret = "telegram-webhook-secret";
  const config = telegramConfig(api, { webhookUrl: "https://bot.example/hook", webhookSecret });
  const gateway = await telegramGateway(api, {
    provider: turn.model.provider,
    turnQueue: new FailingQueue(Infinity),
    config,
  });
  const post = async (updateId: number, text: string) => {
    const response = await gateway.fetch(
      new Request("http://gw/channels/telegram/webhook", {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": webhookSecret },
        body: JSON.stringify({
          update_id: updateId,
          message: { message_id: updateId, text, chat: { id: 7, type: "private" }, from: { id: 7 } },
        }),
      }),
    );
    await response.body?.cancel();
    return response.status;
  };
  try {
    assert.equal(await post(1, "hold"), 200);
    await pollUntil(() => turn.calls() === 1, 5_000, "the first turn to reach the model");
    // A 200 tells Telegram the update is delivered: it never sends this one again.
    const status = await post(2, "second");
    assert.notEqual(status, 200, "an update saved nowhere must be left for Telegram to send again");
  } finally {
    turn.release();
    await gateway.stop();
    await api.close();
  }
});

Deno.test("a pairing code the Bot API is slow to take does not stall Telegram polling for every other chat", async () => {
  const api = startFakeTelegram();
  const turn = heldFirstTurn();
  turn.release();
  // sendMessage to the stranger's chat hangs (a stalled connection); every other call goes through.
  const stalled = Promise.withResolvers<Response>();
  let strangerSends = 0;
  const fetchVia: Fetch = async (input, init) => {
    if (String(input).endsWith("/sendMessage") && JSON.parse(String(init?.body)).chat_id === "8") {
      strangerSends++;
      return await stalled.promise;
    }
    return fetch(input, init);
  };
  const gateway = await telegramGateway(api, { provider: turn.model.provider, fetch: fetchVia });
  try {
    // An unknown sender on a pairing channel gets a code, sent while their update is being handled.
    api.push("hello?", 8);
    await pollUntil(() => strangerSends === 1, 5_000, "the pairing code to be sent");
    api.push("question", 7);
    await pollUntil(() => repliedTo(api).length === 1, 5_000, "the allowed sender's reply");
  } finally {
    stalled.resolve(Response.json({ ok: false, description: "gone" }, { status: 502 }));
    await gateway.stop();
    await api.close();
  }
});

Deno.test("a channel turn in flight when the gateway stops (a restart in place) still sends its reply", async () => {
  const api = startFakeTelegram();
  const turn = heldFirstTurn();
  const gateway = await telegramGateway(api, { provider: turn.model.provider });
  try {
    api.push("question");
    await pollUntil(() => turn.calls() === 1, 5_000, "the turn to reach the model");
    // SIGUSR1 or a config change that needs a restart stops this gateway and starts another in-process;
    // runs in flight are not touched by the stop, and the user's message is already acknowledged.
    await gateway.stop({ reason: "restart requested (SIGUSR1)" });
    turn.release();
    await pollUntil(() => repliedTo(api).length === 1, 5_000, "the reply of the turn that outlived the stop");
  } finally {
    turn.release();
    await gateway.stop();
    await api.close();
  }
});

Deno.test("a reply the Bot API refused for a moment (429 retry_after) is sent again, not dropped", async () => {
  const api = startFakeTelegram();
  const turn = heldFirstTurn();
  turn.release();
  let refused = 0;
  const fetchVia: Fetch = (input, init) => {
    if (String(input).endsWith("/sendMessage") && refused++ === 0) {
      return Promise.resolve(Response.json({
        ok: false,
        error_code: 429,
        description: "Too Many Requests: retry after 1",
        parameters: { retry_after: 1 },
      }, { status: 429 }));
    }
    return fetch(input, init);
  };
  const gateway = await telegramGateway(api, { provider: turn.model.provider, fetch: fetchVia });
  try {
    api.push("question");
    await pollUntil(() => refused >= 1, 5_000, "the first attempt at the reply");
    await pollUntil(() => repliedTo(api).length === 1, 8_000, "the reply, sent again after retry_after");
  } finally {
    await gateway.stop();
    await api.close();
  }
});

Deno.test("/hooks/wake with mode now answers only once its turn's input is durable, as /hooks/agent does", async () => {
  const turn = heldFirstTurn();
  const writes: QueuedTurn[] = [];
  const gate = Promise.withResolvers<void>();
  const turnQueue = new (class extends MemoryTurnQueue {
    override async enqueue(queued: QueuedTurn): Promise<void> {
      writes.push(queued);
      await gate.promise;
      await super.enqueue(queued);
    }
  })();
  const agents = agentsModule({ providers: { rec: turn.model.provider } });
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      agents: { defaults: { model: "rec/m" } },
      hooks: { enabled: true, token: "hook-token-0123456789", defaultSessionKey: "main" },
    },
    stores: { ...memoryStores(), turnQueue },
    modules: [agents, hooksModule({ agents })],
  });
  await gateway.start();
  const hook = (path: string, body: unknown) =>
    gateway.fetch(
      new Request(`http://gw/hooks/${path}`, {
        method: "POST",
        headers: { authorization: "Bearer hook-token-0123456789", "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
  try {
    // The main session is busy in the model: the wake's turn waits, so its input goes to the turn queue.
    const first = await hook("agent", { message: "hold" });
    assert.equal(first.status, 200);
    await first.body?.cancel();
    await pollUntil(() => turn.calls() === 1, 5_000, "the first turn to reach the model");
    let answered = false;
    const wake = hook("wake", { text: "disk almost full", mode: "now" });
    wake.then(() => answered = true, () => answered = true);
    await pollUntil(() => writes.length === 1, 5_000, "the wake's turn to be queued");
    await sleep(300);
    assert.equal(answered, false, "answered before the wake's input was saved anywhere");
    gate.resolve();
    const response = await wake;
    assert.equal(response.status, 200);
    await response.body?.cancel();
  } finally {
    gate.resolve();
    turn.release();
    await gateway.stop();
  }
});

Deno.test("channels on embedder-supplied turns (channelsModule({ turns })) still answer the chat", async () => {
  const api = startFakeTelegram();
  // An embedder without the agents module answers messages with its own turns, as the option allows.
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
  const gateway = createGateway({ config: telegramConfig(api), modules: [channelsModule({ turns })] });
  await gateway.start();
  try {
    api.push("question");
    await pollUntil(() => repliedTo(api).length === 1, 5_000, "the embedder's turn's reply");
  } finally {
    await gateway.stop();
    await api.close();
  }
});

/** A lease store that forwards to `shared` until `lose()`: then this replica's singleton leases fail. */
function losableLeases(shared: LeaseStore) {
  let lost = false;
  const losing = (key: string) => lost && key.startsWith("singleton:");
  const leases: LeaseStore = {
    acquire: (key, owner, ttlMs) => losing(key) ? Promise.resolve(null) : shared.acquire(key, owner, ttlMs),
    renew: (key, token, ttlMs) => losing(key) ? Promise.resolve(false) : shared.renew(key, token, ttlMs),
    release: (key, token) => shared.release(key, token),
  };
  return { leases, lose: () => lost = true };
}

/**
 * Replicas A and B on shared memory stores and channel state; A polls Telegram. The chat's first turn
 * ("hold") stays in the model; A takes a second message, whose turn waits and whose queue write is slow
 * (held until `gate` resolves), and meanwhile loses the poller's lease (the same slow store): B becomes
 * the poller. Resolves once B polls.
 */
async function deposedPoller() {
  const api = startFakeTelegram();
  const turn = heldFirstTurn();
  const shared = memoryStores();
  const docs = new MemoryJsonDocs();
  // A's offset saves land late (the same slow store), so a save A makes after losing its lease would land
  // after its successor's.
  const aDocs: JsonDocs = {
    read: (path) => docs.read(path),
    write: (path, value) => sleep(300).then(() => docs.write(path, value)),
    update: (path, change) => sleep(300).then(() => docs.update(path, change)),
  };
  const gate = Promise.withResolvers<void>();
  let aWrites = 0;
  const aQueue: TurnQueue = new Proxy(shared.turnQueue, {
    get(target, key) {
      if (key === "enqueue") {
        return async (queued: QueuedTurn) => {
          aWrites++;
          await gate.promise;
          await target.enqueue(queued);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const aLeases = losableLeases(shared.leases);
  const config = telegramConfig(api);
  config.gateway!.cluster = { leaseTtlMs: 600 };
  const gateways: Gateway[] = [];
  const polledBy: string[] = [];
  const start = async (name: string, stores: typeof shared) => {
    const agents = agentsModule({ providers: { rec: turn.model.provider } });
    const fetchAs: Fetch = (input, init) => {
      if (String(input).endsWith("/getUpdates")) polledBy.push(name);
      return fetch(input, init);
    };
    const channels = channelsModule({ agents, fetch: fetchAs });
    const gateway = createGateway({
      config,
      stores: { ...stores, docs: name === "A" ? aDocs : docs },
      modules: [agents, channels],
    });
    gateways.push(gateway);
    await gateway.start();
  };
  const close = async () => {
    gate.resolve();
    turn.release();
    for (const gateway of gateways) await gateway.stop();
    await api.close();
  };
  try {
    await start("A", { ...shared, turnQueue: aQueue, leases: aLeases.leases });
    await pollUntil(() => polledBy.length > 0, 5_000, "A to poll");
    await start("B", shared);
    api.push("hold");
    await pollUntil(() => turn.calls() === 1, 5_000, "the first turn to reach the model");
    api.pushUpdate({
      message: { message_id: 602, text: "second", chat: { id: 7, type: "private" }, from: { id: 7 } },
    });
    await pollUntil(() => aWrites === 1, 5_000, "A to take the message");
    aLeases.lose();
    await pollUntil(() => polledBy.includes("B"), 5_000, "B to become the poller");
  } catch (error) {
    await close();
    throw error;
  }
  return { api, turn, docs, gate, close };
}

Deno.test("a Telegram update is run once when the poller moves to another replica while its batch is being saved", async () => {
  const { api, turn, gate, close } = await deposedPoller();
  try {
    // B asks Telegram from the offset A last saved: the update A has not confirmed comes again.
    await sleep(500);
    gate.resolve();
    turn.release();
    // Both runs of the message (if two) end within a few seconds of the session going free.
    await pollUntil(() => turn.model.requests.length >= 3, 5_000, "the message's turn to run").catch(
      () => {},
    );
    await sleep(1_000);
    assert.deepEqual(
      repliedTo(api).filter((id) => id === 602),
      [602],
      "the message is answered exactly once",
    );
  } finally {
    await close();
  }
});

Deno.test("a poller that lost its lease mid-batch does not save its older offset over its successor's", async () => {
  const { api, docs, gate, close } = await deposedPoller();
  try {
    // B handles a later update and saves the offset past it.
    const later = api.pushUpdate({
      message: { message_id: 603, text: "third", chat: { id: 9, type: "private" }, from: { id: 9 } },
    });
    const saved = async () =>
      ((await docs.read("telegram/update-offset-default.json")) as { lastUpdateId?: number } | undefined)
        ?.lastUpdateId ?? -1;
    // B fetches A's unconfirmed update again with the later one, and may not move its offset past it before
    // its input is durable (a channel acknowledges nothing before that), so A's slow write must land first.
    // A then finishes its batch and, without the fix, saves the offset it had after B's.
    gate.resolve();
    await pollUntil(async () => await saved() >= later, 5_000, "B to save the offset past the later update");
    await sleep(500);
    assert.ok(
      await saved() >= later,
      `the saved offset went back to ${await saved()} (successor had ${later})`,
    );
  } finally {
    await close();
  }
});
