// Hardening II item 5: who the Telegram channel answers. DMs default to pairing (a code, nothing else,
// until `openclaw pairing approve`), allowFrom holds under every dmPolicy, groups follow the group policy,
// and an update_id is handled once (also across a restart). Against the loopback fake Bot API.
import assert from "node:assert/strict";
import { join } from "node:path";
import { agentsModule } from "../lib/agents/mod.ts";
import { ChannelPairing, channelsModule, PAIRING_TTL_MS } from "../lib/channels/mod.ts";
import { ChannelsSectionSchema } from "../lib/config/sections/channels.ts";
import { type JsonDocs, MemoryJsonDocs } from "../lib/state/json-docs.ts";
import { fileJsonDocs } from "../lib/state/json-docs-files.ts";
import { createGateway, type GatewayConfig } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { runCli } from "../runner/cli/dispatch.ts";
import { commandCatalog } from "../runner/cli/command-table.ts";
import { type FakeTelegram, pollingTelegram, reloadTelegram, startFakeTelegram } from "./_fake_telegram.ts";
import { client, connectParams, TOKEN } from "./_helpers.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";

// deno-lint-ignore no-explicit-any
type Loose = Record<string, any>;

const CODE = /Pairing code: ([A-HJ-NP-Z2-9]{8})\b/;

async function gatewayWith(api: FakeTelegram, telegram: Record<string, unknown>, state: JsonDocs) {
  const agents = agentsModule();
  const config: GatewayConfig = {
    gateway: { auth: { mode: "token", token: TOKEN } },
    channels: { telegram: pollingTelegram(api.url, telegram) },
  };
  const gateway = createGateway({
    config,
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    stores: { docs: state },
    modules: [agents, channelsModule({ agents })],
  });
  const address = (await gateway.start())!;
  return { gateway, base: `http://127.0.0.1:${address.port}` };
}

/** Every sendMessage body the bot sent to `chatId` so far. */
const sentTo = (api: FakeTelegram, chatId: string | number) =>
  api.calls.filter((c) => c.method === "sendMessage" && c.body.chat_id === String(chatId)).map((c) => c.body);

async function cli(stateDir: string, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, {
    output: { out: (t) => out.push(t), err: (t) => err.push(t) },
    env: { HOME: stateDir, OPENCLAW_STATE_DIR: stateDir },
    osHome: stateDir,
    shutdownSignal: new AbortController().signal,
    commands: commandCatalog({ isTerminal: false }),
    version: "test",
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("telegram pairing (the default): a stranger gets one code and no answer until `openclaw pairing approve`", async () => {
  const stateDir = await Deno.makeTempDir();
  const api = startFakeTelegram();
  const { gateway } = await gatewayWith(api, {}, fileJsonDocs(stateDir));
  try {
    api.push("hello bot", 999);
    const challenge = await api.nextSent();
    assert.equal(challenge.chat_id, "999");
    const code = CODE.exec(String(challenge.text))?.[1];
    assert.ok(code, `a pairing code in: ${challenge.text}`);
    assert.match(String(challenge.text), new RegExp(`openclaw pairing approve telegram ${code}`));
    assert.match(String(challenge.text), /999/, "the sender learns the id the owner will see");

    // Asking again does not mint a new code or reach the agent.
    api.push("hello again", 999);
    await waitForUpdatesConsumed(api);
    const listed = await cli(stateDir, ["pairing", "list", "telegram"]);
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, new RegExp(`${code}\\s+999`));
    const wrong = await cli(stateDir, ["pairing", "approve", "telegram", "WRONG123"]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /No pending pairing request found for code "WRONG123"/);
    assert.equal((await cli(stateDir, ["pairing", "approve", "signal", code])).code, 2);

    const approved = await cli(stateDir, ["pairing", "approve", "telegram", code.toLowerCase()]);
    assert.deepEqual([approved.code, approved.out], [0, "Approved telegram sender 999."]);
    const allowFile = join(stateDir, "credentials", "telegram-default-allowFrom.json");
    assert.deepEqual(JSON.parse(await Deno.readTextFile(allowFile)).allowFrom, ["999"]);
    assert.equal((await Deno.stat(allowFile)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(stateDir, "credentials"))).mode! & 0o777, 0o700);

    // The running gateway admits the sender from the next message on, without a restart.
    api.push("may I now?", 999);
    const reply = await api.nextSent();
    assert.equal(reply.chat_id, "999");
    assert.match(String(reply.text), /you said "may I now\?"/);
    const toStranger = sentTo(api, 999);
    assert.equal(toStranger.length, 2, "one code, then the answer after approval");
    assert.ok(
      !toStranger.some((m) => /hello/.test(String(m.text))),
      "the pre-approval messages never reached the agent",
    );
    assert.match(
      (await cli(stateDir, ["pairing", "list", "telegram"])).out,
      /No pending telegram pairing requests/,
    );
  } finally {
    await gateway.stop();
    await api.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("telegram pairing CLI: the channel may be left out when exactly one configured channel pairs", async () => {
  const stateDir = await Deno.makeTempDir();
  try {
    const pairing = new ChannelPairing(fileJsonDocs(stateDir));
    const { code } = await pairing.request("telegram", "4242");
    await Deno.writeTextFile(join(stateDir, "openclaw.json"), JSON.stringify({ channels: { telegram: {} } }));
    const listed = await cli(stateDir, ["pairing", "list", "--json"]);
    assert.equal(JSON.parse(listed.out).requests[0].code, code);
    const approved = await cli(stateDir, ["pairing", "approve", code]);
    assert.equal(approved.out, "Approved telegram sender 4242.");
    assert.deepEqual(await pairing.approved("telegram"), ["4242"]);

    await Deno.writeTextFile(
      join(stateDir, "openclaw.json"),
      JSON.stringify({ channels: { telegram: { dmPolicy: "allowlist", allowFrom: ["1"] } } }),
    );
    const none = await cli(stateDir, ["pairing", "list"]);
    assert.equal(none.code, 2);
    assert.match(none.err, /No configured channel uses DM pairing/);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("telegram dmPolicy open with allowFrom [123]: 999 gets nothing (no code either), 123 is answered", async () => {
  const api = startFakeTelegram();
  const state = new MemoryJsonDocs();
  // An approval left in the store does not widen `open` either.
  await new ChannelPairing(state).request("telegram", "999").then(({ code }) =>
    new ChannelPairing(state).approveCode("telegram", code)
  );
  const { gateway } = await gatewayWith(api, { dmPolicy: "open", allowFrom: ["123"] }, state);
  try {
    api.push("let me in", 999);
    api.push("owner here", 123);
    const reply = await api.nextSent();
    assert.equal(reply.chat_id, "123");
    assert.deepEqual(sentTo(api, 999), []);

    // `open` with "*" is public, as documented.
    const reload = await reloadTelegram(
      gateway,
      pollingTelegram(api.url, { dmPolicy: "open", allowFrom: ["*"] }),
    );
    assert.deepEqual(reload, { ok: true });
    api.push("anyone?", 555);
    assert.equal((await api.nextSent()).chat_id, "555");
  } finally {
    await gateway.stop();
    await api.close();
  }
});

Deno.test("telegram dmPolicy allowlist and disabled: no code, no answer outside the list (pairing approvals ignored)", async () => {
  const api = startFakeTelegram();
  const state = new MemoryJsonDocs();
  const pairing = new ChannelPairing(state);
  await pairing.approveCode("telegram", (await pairing.request("telegram", "999")).code);
  const { gateway } = await gatewayWith(api, { dmPolicy: "allowlist", allowFrom: ["tg:123"] }, state);
  try {
    api.push("approved by pairing once", 999);
    api.push("listed", 123);
    assert.equal((await api.nextSent()).chat_id, "123", "telegram:/tg: prefixes are normalized");
    assert.deepEqual(sentTo(api, 999), []);

    await reloadTelegram(gateway, pollingTelegram(api.url, { dmPolicy: "disabled", allowFrom: ["123"] }));
    api.push("still there?", 123);
    api.push("and me?", 999);
    // Nothing to wait for: give the poller a cycle, then check nothing went out.
    await waitForUpdatesConsumed(api);
    assert.equal(sentTo(api, 123).length, 1, "disabled answers no one, allowFrom or not");
    assert.deepEqual(sentTo(api, 999), []);
  } finally {
    await gateway.stop();
    await api.close();
  }
});

/** Resolves once the poller asked for updates past everything queued so far (so they were handled). */
async function waitForUpdatesConsumed(api: FakeTelegram): Promise<void> {
  const last = api.pushUpdate({});
  while (!api.calls.some((c) => c.method === "getUpdates" && Number(c.body.offset) > last)) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 50));
}

Deno.test("telegram config: allowlist without senders and open without allowFrom are refused at load", () => {
  const allowlist = ChannelsSectionSchema.safeParse({ telegram: { dmPolicy: "allowlist" } });
  assert.equal(allowlist.success, false);
  assert.match(JSON.stringify(allowlist.error?.issues), /needs at least one sender id in allowFrom/);
  const open = ChannelsSectionSchema.safeParse({ telegram: { dmPolicy: "open", allowFrom: [] } });
  assert.match(JSON.stringify(open.error?.issues), /allowFrom: \[\\"\*\\"\]/);
  assert.equal(
    ChannelsSectionSchema.safeParse({ telegram: { dmPolicy: "open", allowFrom: [123] } }).success,
    true,
  );
  assert.equal(ChannelsSectionSchema.safeParse({ telegram: { groups: { "my group": {} } } }).success, false);
  assert.equal(
    ChannelsSectionSchema.safeParse({ telegram: { groups: { "-1001": {}, "*": {} } } }).success,
    true,
  );
});

Deno.test("telegram groups: closed by default; an allowed group answers allowFrom senders who mention the bot", async () => {
  const api = startFakeTelegram();
  const state = new MemoryJsonDocs();
  const pairing = new ChannelPairing(state);
  await pairing.approveCode("telegram", (await pairing.request("telegram", "999")).code);
  const { gateway } = await gatewayWith(api, { allowFrom: ["123"] }, state);
  try {
    // No `groups` map and the default groupPolicy (allowlist): no group gets in, and no code is posted there.
    api.pushGroup("@test_bot hello", 123, -1001);
    await waitForUpdatesConsumed(api);
    assert.deepEqual(sentTo(api, -1001), []);

    await reloadTelegram(gateway, pollingTelegram(api.url, { allowFrom: ["123"], groups: { "-1001": {} } }));
    api.pushGroup("no mention here", 123, -1001);
    api.pushGroup("@test_bot a paired DM sender is not a group sender", 999, -1001);
    api.pushGroup("@test_bot wrong group", 123, -1002);
    api.pushGroup("@Test_Bot ping", 123, -1001);
    const reply = await api.nextSent();
    assert.equal(reply.chat_id, "-1001");
    assert.match(String(reply.text), /ping/);
    api.pushGroup("a reply to the bot counts as addressing it", 123, -1001, {
      reply_to_message: { message_id: 1, from: { id: 42, is_bot: true } },
    });
    assert.match(String((await api.nextSent()).text), /a reply to the bot/);
    await waitForUpdatesConsumed(api);
    assert.equal(sentTo(api, -1001).length, 2);
    assert.deepEqual(sentTo(api, -1002), []);
    assert.deepEqual(sentTo(api, 999), []);
    const c = await client(gateway);
    const history = await c.request("chat.history", { sessionKey: "agent:main:telegram:group:-1001" });
    assert.equal(
      (history.payload as { messages: unknown[] }).messages.length,
      4,
      "the group has its own session",
    );
    c.socket.close();
  } finally {
    await gateway.stop();
    await api.close();
  }
});

Deno.test("telegram update_id: a repeated id in polling and a retried webhook are handled once", async () => {
  const api = startFakeTelegram();
  const { gateway } = await gatewayWith(api, { allowFrom: ["123"] }, new MemoryJsonDocs());
  try {
    const message = { message_id: 1, text: "once", chat: { id: 123, type: "private" }, from: { id: 123 } };
    const id = api.pushUpdate({ message });
    api.pushUpdate({ update_id: id, message });
    assert.match(String((await api.nextSent()).text), /once/);
    api.push("twice?", 123);
    assert.match(String((await api.nextSent()).text), /twice/);
    assert.equal(sentTo(api, 123).length, 2);
  } finally {
    await gateway.stop();
  }

  const { gateway: hooked, base } = await gatewayWith(api, {
    allowFrom: ["99"],
    webhookUrl: "https://bot.example.test/channels/telegram/webhook",
    webhookSecret: "hook-secret",
  }, new MemoryJsonDocs());
  try {
    const post = async (update: unknown) => {
      const response = await fetch(`${base}/channels/telegram/webhook`, {
        method: "POST",
        headers: { "X-Telegram-Bot-Api-Secret-Token": "hook-secret", "Content-Type": "application/json" },
        body: JSON.stringify(update),
      });
      await response.body?.cancel();
      return response.status;
    };
    const update = {
      update_id: 7,
      message: { message_id: 5, text: "retried", chat: { id: 99 }, from: { id: 99 } },
    };
    assert.equal(await post(update), 200);
    assert.equal(await post(update), 200, "a retry is acknowledged so Telegram stops sending it");
    assert.match(String((await api.nextSent()).text), /retried/);
    assert.equal(await post({ ...update, update_id: 8, message: { ...update.message, text: "fresh" } }), 200);
    assert.match(String((await api.nextSent()).text), /fresh/);
    assert.equal(sentTo(api, 99).length, 2);
  } finally {
    await hooked.stop();
    await api.close();
  }
});

Deno.test("telegram polling offset survives a restart: nothing already answered is answered again", async () => {
  const stateDir = await Deno.makeTempDir();
  const api = startFakeTelegram();
  try {
    const first = await gatewayWith(api, { allowFrom: ["123"] }, fileJsonDocs(stateDir));
    api.push("before restart", 123);
    assert.match(String((await api.nextSent()).text), /before restart/);
    await first.gateway.stop();
    const saved = JSON.parse(
      await Deno.readTextFile(join(stateDir, "telegram", "update-offset-default.json")),
    );
    assert.equal(saved.botId, 42);

    // The fake Bot API hands out every update at or past the requested offset, as Telegram does for
    // unconfirmed ones: a gateway that forgot its offset would answer "before restart" again.
    const callsBefore = api.calls.length;
    const second = await gatewayWith(api, { allowFrom: ["123"] }, fileJsonDocs(stateDir));
    try {
      api.push("after restart", 123);
      assert.match(String((await api.nextSent()).text), /after restart/);
      assert.equal(sentTo(api, 123).length, 2);
      const resumed = api.calls.slice(callsBefore).find((c) => c.method === "getUpdates");
      assert.equal(resumed?.body.offset, saved.lastUpdateId + 1, "the restart resumes past the saved id");
    } finally {
      await second.gateway.stop();
    }
  } finally {
    await api.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("channels.pairing.* over WS: list (schema), approve by requestId with notify, dismiss, scopes, pending cap", async () => {
  const api = startFakeTelegram();
  const { gateway } = await gatewayWith(api, { allowFrom: ["123"] }, new MemoryJsonDocs());
  try {
    for (const sender of [901, 902, 903, 904]) api.push(`hi from ${sender}`, sender);
    const codes = [await api.nextSent(), await api.nextSent(), await api.nextSent()];
    api.push("owner", 123);
    assert.equal((await api.nextSent()).chat_id, "123");
    assert.deepEqual(codes.map((m) => m.chat_id).sort(), ["901", "902", "903"]);
    assert.deepEqual(sentTo(api, 904), [], "past 3 pending requests, strangers are ignored");

    const reader = await client(gateway, connectParams({ scopes: ["operator.read"] }));
    const denied = await reader.request("channels.pairing.list", {});
    assert.equal(denied.ok, false);
    reader.socket.close();

    const pairer = await client(gateway, connectParams({ scopes: ["operator.pairing"] }));
    const list = await pairer.request("channels.pairing.list", { channel: "telegram" });
    assert.equal(list.ok, true, JSON.stringify(list.error));
    assertMatchesSchema("ChannelsPairingListResult", list.payload);
    const payload = list.payload as Loose;
    assert.deepEqual(payload.limits, { pendingPerAccount: 3, ttlMs: 3_600_000 });
    assert.deepEqual(payload.accounts.map((a: Loose) => a.channel), ["telegram"]);
    assert.equal(payload.requests.length, 3);
    assert.ok(!JSON.stringify(payload).match(/"code"/), "the list never shows the codes");
    const [first, second] = payload.requests as Loose[];
    assert.equal(first.senderLabel, "telegramUserId");

    const owner = await pairer.request("channels.pairing.approve", {
      channel: "telegram",
      accountId: "default",
      requestId: first.requestId,
      bootstrapCommandOwner: true,
    });
    assert.equal(owner.ok, false, "making a command owner needs operator.admin");
    assert.match((owner.error as Loose).message, /operator\.admin/);

    const approve = await pairer.request("channels.pairing.approve", {
      channel: "telegram",
      accountId: "default",
      requestId: first.requestId,
      notify: true,
    });
    assert.equal(approve.ok, true, JSON.stringify(approve.error));
    assertMatchesSchema("ChannelsPairingApproveResult", approve.payload);
    assert.deepEqual(approve.payload, {
      requestId: first.requestId,
      senderId: first.senderId,
      notification: "sent",
      commandOwnerBootstrap: "not-requested",
    });
    assert.equal((await api.nextSent()).chat_id, first.senderId, "the approved sender is told");
    const again = await pairer.request("channels.pairing.approve", {
      channel: "telegram",
      accountId: "default",
      requestId: first.requestId,
    });
    assert.match((again.error as Loose).message, /no longer exists/);

    const dismiss = await pairer.request("channels.pairing.dismiss", {
      channel: "telegram",
      accountId: "default",
      requestId: second.requestId,
    });
    assertMatchesSchema("ChannelsPairingDismissResult", dismiss.payload);
    const after = (await pairer.request("channels.pairing.list", {})).payload as Loose;
    assert.equal(after.requests.length, 1);
    const unknown = await pairer.request("channels.pairing.list", { channel: "signal" });
    assert.equal((unknown.error as Loose).code, "INVALID_REQUEST");
    pairer.socket.close();

    api.push("thanks", Number(first.senderId));
    assert.match(String((await api.nextSent()).text), /thanks/);
  } finally {
    await gateway.stop();
    await api.close();
  }
});

Deno.test("pairing codes: 8 characters without 0O1I, expire after one hour, then a new code is issued", async () => {
  let now = Date.parse("2026-11-29T12:00:00Z");
  const pairing = new ChannelPairing(new MemoryJsonDocs(), () => now);
  const codes = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const { code, created } = await pairing.request("telegram", `s${i}`);
    assert.equal(created, true);
    assert.match(code, /^[A-HJ-NP-Z2-9]{8}$/);
    codes.add(code);
  }
  assert.equal(codes.size, 3);
  assert.deepEqual(await pairing.request("telegram", "s3"), { code: "", created: false });
  assert.equal((await pairing.request("telegram", "s0")).created, false, "a pending sender keeps its code");
  now += PAIRING_TTL_MS + 1;
  assert.deepEqual(await pairing.pending("telegram"), []);
  assert.equal(
    await pairing.approveCode("telegram", [...codes][0]),
    undefined,
    "an expired code approves no one",
  );
  assert.equal((await pairing.request("telegram", "s3")).created, true);
});
