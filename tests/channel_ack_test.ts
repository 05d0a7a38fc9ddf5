// What a channel answers for a message whose input could not be saved, and what it does with the same
// message sent again (review of the channel-resume merge, finding 1), and how pairing codes are bounded (4).
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { BoundedSends } from "../lib/channels/bounded-sends.ts";
import { channelsModule, SIGNATURE_HEADER, signWebhookBody, TIMESTAMP_HEADER } from "../lib/channels/mod.ts";
import { GatewayError } from "../lib/errors.ts";
import { memoryStores } from "../lib/state/stores.ts";
import { MemoryTurnQueue, type QueuedTurn } from "../lib/state/turn-queue.ts";
import { createGateway, type Gateway, type GatewayConfig } from "../mod.ts";
import { BOT_TOKEN, startFakeTelegram } from "./_fake_telegram.ts";
import { pollUntil, TOKEN } from "./_helpers.ts";
import { recordingProvider } from "./_scripted_runtime.ts";

/** A memory queue whose first write fails as a Redis that is down does. */
class OnceFailingQueue extends MemoryTurnQueue {
  failed = false;
  override async enqueue(turn: QueuedTurn): Promise<void> {
    if (!this.failed) {
      this.failed = true;
      throw new GatewayError("UNAVAILABLE", "redis is unreachable", { retryable: true });
    }
    await super.enqueue(turn);
  }
}

/**
 * A gateway whose chat's first turn stays in the model until `release()`, so the next message's turn
 * waits and its input goes to a queue whose first write fails.
 */
async function busyGateway(channels: GatewayConfig["channels"]) {
  const held = Promise.withResolvers<void>();
  let calls = 0;
  const model = recordingProvider(() => ++calls === 1 ? held.promise : Promise.resolve());
  const agents = agentsModule({ providers: { rec: model.provider } });
  const gateway: Gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      agents: { defaults: { model: "rec/m" } },
      channels,
    } as GatewayConfig,
    stores: { ...memoryStores(), turnQueue: new OnceFailingQueue() },
    modules: [agents, channelsModule({ agents })],
  });
  await gateway.start();
  return { gateway, calls: () => calls, release: () => held.resolve() };
}

Deno.test("a webhook-channel request answered 503 may be sent again as it was: its signature is not used up", async () => {
  const secret = "webhook-shared-secret";
  const busy = await busyGateway({ webhook: { secret, outboundUrl: "http://127.0.0.1:9/replies" } });
  const signed = async (text: string) => {
    const body = JSON.stringify({ from: "u1", text });
    const ts = Date.now();
    const headers = {
      "content-type": "application/json",
      [SIGNATURE_HEADER]: await signWebhookBody(secret, ts, body),
      [TIMESTAMP_HEADER]: String(ts),
    };
    return async () => {
      const response = await busy.gateway.fetch(
        new Request("http://gw/channels/webhook/inbound", { method: "POST", headers, body }),
      );
      await response.body?.cancel();
      return { status: response.status, retryAfter: response.headers.get("retry-after") };
    };
  };
  try {
    assert.equal((await (await signed("hold"))()).status, 202);
    await pollUntil(() => busy.calls() === 1, 5_000, "the first turn to reach the model");
    const second = await signed("second");
    assert.deepEqual(await second(), { status: 503, retryAfter: "5" });
    assert.equal((await second()).status, 202, "the same signed request, sent again, is taken");
    assert.equal((await second()).status, 409, "once taken, the signature is used up");
  } finally {
    busy.release();
    await busy.gateway.stop();
  }
});

Deno.test("a Telegram webhook update answered 503 is taken and answered when Telegram sends it again", async () => {
  const api = startFakeTelegram();
  const webhookSecret = "telegram-webhook-secret";
  const busy = await busyGateway({
    telegram: {
      botToken: BOT_TOKEN,
      apiRoot: api.url,
      allowFrom: ["7"],
      webhookUrl: "https://bot.example/hook",
      webhookSecret,
    },
  });
  const post = async (updateId: number, text: string) => {
    const response = await busy.gateway.fetch(
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
    await pollUntil(() => busy.calls() === 1, 5_000, "the first turn to reach the model");
    assert.equal(await post(2, "second"), 503);
    assert.equal(await post(2, "second"), 200, "Telegram's retry is taken, not dropped as already handled");
    busy.release();
    const replied = () =>
      api.calls.filter((c) => c.method === "sendMessage")
        .map((c) => (c.body.reply_parameters as { message_id?: number } | undefined)?.message_id);
    await pollUntil(() => replied().includes(2), 5_000, "the reply to the retried update");
  } finally {
    busy.release();
    await busy.gateway.stop();
    await api.close();
  }
});

Deno.test("background sends: one in flight per chat and a bound overall, freed when they settle", async () => {
  const sends = new BoundedSends(2);
  const hold = Promise.withResolvers<void>();
  assert.equal(sends.start("a", () => hold.promise), true);
  assert.equal(sends.start("a", () => Promise.resolve()), false, "a second send to a chat already waiting");
  assert.equal(sends.start("b", () => hold.promise), true);
  assert.equal(sends.start("c", () => Promise.resolve()), false, "past the overall bound");
  hold.resolve();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(sends.start("c", () => Promise.resolve()), true, "free again once the others settled");
});

Deno.test("a Bot API call that hangs is given up after its timeout (15 s)", async () => {
  const api = startFakeTelegram();
  // sendMessage (the pairing code to a stranger) never answers; the call's own signal is the only way out.
  let aborted: ((reason: unknown) => void) | undefined;
  const gaveUp = new Promise<unknown>((resolve) => aborted = resolve);
  let sentAt = 0;
  const fetchVia = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (!String(input).endsWith("/sendMessage")) return fetch(input, init);
    sentAt = Date.now();
    return new Promise((_, reject) => {
      init?.signal?.addEventListener("abort", () => {
        aborted?.(init.signal!.reason);
        reject(init.signal!.reason);
      }, { once: true });
    });
  };
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      channels: { telegram: { botToken: BOT_TOKEN, apiRoot: api.url, pollTimeoutSeconds: 1 } },
    } as GatewayConfig,
    modules: [channelsModule({ fetch: fetchVia })],
  });
  await gateway.start();
  try {
    api.push("hello?", 8);
    const reason = await gaveUp;
    assert.match(String(reason), /sendMessage timed out after 15000 ms/);
    assert.ok(Date.now() - sentAt >= 14_900, "not before its timeout");
  } finally {
    await gateway.stop();
    await api.close();
  }
});

Deno.test("a signed webhook-channel request replayed to another replica starts no second turn", async () => {
  const secret = "webhook-shared-secret";
  const stores = memoryStores();
  let calls = 0;
  const replica = async () => {
    const model = recordingProvider(() => (calls++, Promise.resolve()));
    const agents = agentsModule({ providers: { rec: model.provider } });
    const gateway = createGateway({
      config: {
        gateway: { auth: { mode: "token", token: TOKEN } },
        agents: { defaults: { model: "rec/m" } },
        channels: { webhook: { secret, outboundUrl: "http://127.0.0.1:9/replies" } },
      } as GatewayConfig,
      stores,
      modules: [agents, channelsModule({ agents })],
    });
    await gateway.start();
    return gateway;
  };
  const [a, b] = [await replica(), await replica()];
  try {
    const body = JSON.stringify({ from: "u1", text: "once" });
    const ts = Date.now();
    const headers = {
      "content-type": "application/json",
      [SIGNATURE_HEADER]: await signWebhookBody(secret, ts, body),
      [TIMESTAMP_HEADER]: String(ts),
    };
    const send = async (gateway: Gateway) => {
      const response = await gateway.fetch(
        new Request("http://gw/channels/webhook/inbound", { method: "POST", headers, body }),
      );
      await response.body?.cancel();
      return response.status;
    };
    assert.equal(await send(a), 202);
    await pollUntil(() => calls === 1, 5_000, "the turn to reach the model");
    // Each replica's replay guard is its own; the delivery's cluster-wide claim is what stops this copy.
    assert.equal(await send(b), 202);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(calls, 1, "the replayed request started a second turn");
  } finally {
    await a.stop();
    await b.stop();
  }
});
