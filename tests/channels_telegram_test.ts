// Telegram channel against a loopback Bot API: long polling and webhook mode, inbound message → agent
// turn with the local model → sendMessage; channels.status with probe, schema-checked.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { channelsModule } from "../lib/channels/mod.ts";
import { createGateway, type GatewayConfig } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { client, TOKEN } from "./_helpers.ts";
import { BOT_TOKEN, pollingTelegram, reloadTelegram, startFakeTelegram } from "./_fake_telegram.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";

// Status payloads are checked field by field; a loose type keeps the assertions short.
// deno-lint-ignore no-explicit-any
type Loose = Record<string, any>;

async function gatewayWith(telegram: Record<string, unknown>) {
  const agents = agentsModule();
  const config: GatewayConfig = {
    gateway: { auth: { mode: "token", token: TOKEN } },
    channels: { telegram },
  };
  const gateway = createGateway({
    config,
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    modules: [agents, channelsModule({ agents })],
  });
  const address = (await gateway.start())!;
  return { gateway, base: `http://127.0.0.1:${address.port}` };
}

Deno.test("telegram polling: a message becomes an agent turn and the reply is sent to the chat", async () => {
  const api = startFakeTelegram();
  const { gateway } = await gatewayWith(pollingTelegram(api.url, { allowFrom: ["7"] }));
  try {
    api.push("ping from telegram", 7);
    const sent = await api.nextSent();
    assert.equal(sent.chat_id, "7");
    assert.equal(sent.text, 'Local model reply #1: you said "ping from telegram".');
    assert.ok(api.calls.some((c) => c.method === "deleteWebhook"), "polling clears a stale webhook first");

    const c = await client(gateway);
    const status = await c.request("channels.status", { probe: true, timeoutMs: 2000 });
    assert.equal(status.ok, true, JSON.stringify(status.error));
    assertMatchesSchema("ChannelsStatusResult", status.payload);
    const payload = status.payload as Loose;
    assert.deepEqual(payload.channelOrder, ["telegram"]);
    assert.equal(payload.channels.telegram.running, true);
    assert.equal(payload.channels.telegram.probe.ok, true);
    assert.equal(payload.channels.telegram.probe.identity.username, "test_bot");
    assert.equal(payload.channelAccounts.telegram[0].lastInboundAt > 0, true);
    assert.equal(payload.channelAccounts.telegram[0].mode, "polling");

    const health = await c.request("health");
    assert.equal((health.payload as Loose).channels.telegram.running, true);
    const history = await c.request("chat.history", { sessionKey: "agent:main:telegram:direct:7" });
    assert.equal((history.payload as { messages: unknown[] }).messages.length, 2);
    c.socket.close();
  } finally {
    await gateway.stop();
    await api.close();
  }
});

Deno.test("telegram webhook mode: setWebhook with the secret; updates need the secret header", async () => {
  const api = startFakeTelegram();
  const { gateway, base } = await gatewayWith({
    botToken: BOT_TOKEN,
    apiRoot: api.url,
    webhookUrl: "https://bot.example.test/channels/telegram/webhook",
    webhookSecret: "hook-secret",
    allowFrom: ["99"],
  });
  try {
    const setWebhook = api.calls.find((c) => c.method === "setWebhook");
    assert.equal(setWebhook?.body.secret_token, "hook-secret");
    const update = {
      update_id: 1,
      message: { message_id: 5, text: "via webhook", chat: { id: 99 }, from: { id: 99 } },
    };
    const refused = await fetch(`${base}/channels/telegram/webhook`, {
      method: "POST",
      headers: { "X-Telegram-Bot-Api-Secret-Token": "wrong" },
      body: JSON.stringify(update),
    });
    await refused.body?.cancel();
    assert.equal(refused.status, 401);
    const accepted = await fetch(`${base}/channels/telegram/webhook`, {
      method: "POST",
      headers: { "X-Telegram-Bot-Api-Secret-Token": "hook-secret", "Content-Type": "application/json" },
      body: JSON.stringify(update),
    });
    await accepted.body?.cancel();
    assert.equal(accepted.status, 200);
    const sent = await api.nextSent();
    assert.equal(sent.chat_id, "99");
    assert.equal(sent.text, 'Local model reply #1: you said "via webhook".');
    assert.deepEqual(sent.reply_parameters, { message_id: 5 });
    assert.ok(!api.calls.some((c) => c.method === "getUpdates"), "webhook mode does not poll");
  } finally {
    await gateway.stop();
    await api.close();
  }
});

Deno.test("telegram: a rejected token shows in status and probe; allowFrom drops strangers", async () => {
  const api = startFakeTelegram();
  const { gateway } = await gatewayWith({ botToken: "999:wrong", apiRoot: api.url });
  try {
    const c = await client(gateway);
    const status = await c.request("channels.status", { probe: true, channel: "telegram" });
    const payload = status.payload as Loose;
    assert.match(payload.channels.telegram.lastError, /getMe failed \(401\): Unauthorized/);
    assert.equal(payload.channels.telegram.running, false);
    assert.equal(payload.channels.telegram.probe.ok, false);
    const unknown = await c.request("channels.status", { channel: "signal" });
    assert.equal((unknown.error as { code: string }).code, "INVALID_REQUEST");

    // A config reload restarts the channel with the new settings.
    const reload = await reloadTelegram(
      gateway,
      pollingTelegram(api.url, { dmPolicy: "allowlist", allowFrom: ["8"] }),
    );
    assert.deepEqual(reload, { ok: true });
    api.push("from a stranger", 7);
    api.push("from the owner", 8);
    const sent = await api.nextSent();
    assert.equal(sent.chat_id, "8", "only the allowlisted sender gets an answer");
    c.socket.close();
  } finally {
    await gateway.stop();
    await api.close();
  }
});
