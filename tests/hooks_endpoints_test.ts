// Hooks end to end: token auth and its limiter, body limit, /agent → local model turn → reply
// delivered through the webhook channel to a loopback server, idempotency, mappings, /wake, metrics.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { channelsModule, SIGNATURE_HEADER } from "../lib/channels/mod.ts";
import { hooksModule } from "../lib/hooks/mod.ts";
import { metricsModule, parseExposition, type Sample } from "../lib/metrics/mod.ts";
import { createGateway, type Gateway, type GatewayConfig } from "../mod.ts";
import { TOKEN } from "./_helpers.ts";

const HOOK_TOKEN = "hook-token-abcdef";

function receiver() {
  const received: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    async (req) => {
      assert.ok(req.headers.get(SIGNATURE_HEADER)?.startsWith("sha256="));
      received.push(await req.json());
      waiters.shift()?.();
      return new Response(null, { status: 204 });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    received,
    /** Resolves once `count` replies arrived. */
    async until(count: number) {
      while (received.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    async close() {
      controller.abort();
      await server.finished;
    },
  };
}

async function setup(hooks: Record<string, unknown>, sinkUrl = "http://127.0.0.1:9/") {
  const agents = agentsModule();
  const metrics = metricsModule({ agents });
  const channels = channelsModule({ agents, metrics: metrics.recorder });
  const config: GatewayConfig = {
    gateway: { auth: { mode: "token", token: TOKEN } },
    channels: { webhook: { secret: "s", outboundUrl: sinkUrl } },
    hooks: { enabled: true, token: HOOK_TOKEN, ...hooks },
  };
  const gateway = createGateway({
    config,
    modules: [agents, metrics, channels, hooksModule({ agents, channels, metrics: metrics.recorder })],
  });
  await gateway.start();
  return gateway;
}

async function post(
  gateway: Gateway,
  path: string,
  body: unknown,
  headers: Record<string, string> = { Authorization: `Bearer ${HOOK_TOKEN}` },
  remoteAddress = "127.0.0.1",
) {
  const response = await gateway.fetch(
    new Request(`http://127.0.0.1${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
    { remoteAddress },
  );
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch { /* plain text answers */ }
  return { status: response.status, json, text, headers: response.headers };
}

Deno.test("hooks /agent: a delivered run reaches the channel; idempotent; validation answers 400", async () => {
  const sink = receiver();
  const gateway = await setup({ allowedTargets: ["webhook:ops-room"] }, sink.url);
  try {
    const ok = await post(gateway, "/hooks/agent", {
      message: "New invoice received",
      name: "Billing",
      channel: "webhook",
      to: "ops-room",
      idempotencyKey: "inv-1",
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json?.ok, true);
    const again = await post(gateway, "/hooks/agent", {
      message: "New invoice received",
      channel: "webhook",
      to: "ops-room",
      idempotencyKey: "inv-1",
    });
    assert.equal(again.json?.runId, ok.json?.runId, "same idempotency key, same run");
    await sink.until(1);
    assert.equal(sink.received[0].to, "ops-room");
    assert.equal(sink.received[0].text, 'Local model reply #1: you said "New invoice received".');

    const half = await post(gateway, "/hooks/agent", { message: "x", channel: "webhook" });
    assert.equal(half.status, 400);
    assert.match(String(half.json?.error), /both channel and to/);
    const unknownChannel = await post(gateway, "/hooks/agent", { message: "x", channel: "sms", to: "1" });
    assert.equal(unknownChannel.status, 400);
    const unknownAgent = await post(gateway, "/hooks/agent", { message: "x", agentId: "ghost" });
    assert.equal(unknownAgent.status, 400);
    assert.match(String(unknownAgent.json?.error), /unknown agentId 'ghost'/);
    const sessionKey = await post(gateway, "/hooks/agent", { message: "x", sessionKey: "hook:mine" });
    assert.equal(sessionKey.status, 400);
    assert.match(String(sessionKey.json?.error), /allowRequestSessionKey/);
    const missing = await post(gateway, "/hooks/agent", { name: "no message" });
    assert.equal(missing.status, 400);
    const notJson = await post(gateway, "/hooks/agent", "{nope");
    assert.equal(notJson.status, 400);

    const wake = await post(gateway, "/hooks/wake", { text: "New email received" });
    assert.equal(wake.status, 200);
    assert.equal(wake.json?.mode, "now");
    const later = await post(gateway, "/hooks/wake", { text: "later", mode: "next-heartbeat" });
    assert.deepEqual(later.json, { ok: true, mode: "next-heartbeat", queued: true });

    // The delivery is counted once the receiver's answer is back, a moment after it saw the body.
    let samples: Sample[] = [];
    for (let i = 0; i < 50 && !samples.some((s) => s.name === "openclaw_message_delivery_total"); i++) {
      await new Promise((r) => setTimeout(r, 10));
      const scrape = await gateway.fetch(
        new Request("http://127.0.0.1/api/diagnostics/prometheus", {
          headers: { Authorization: `Bearer ${TOKEN}` },
        }),
      );
      samples = parseExposition(await scrape.text());
    }
    const received = samples.filter((s) => s.name === "openclaw_webhook_received_total");
    assert.equal(received.find((s) => s.labels.webhook === "agent")?.value, 8);
    assert.equal(
      samples.find((s) => s.name === "openclaw_webhook_error_total" && s.labels.webhook === "agent")
        ?.value,
      6,
    );
    assert.equal(samples.find((s) => s.name === "openclaw_message_delivery_total")?.value, 1);
  } finally {
    await gateway.stop();
    await sink.close();
  }
});

Deno.test("hooks auth: bearer or x-openclaw-token; query tokens refused; 20 failures lock the IP", async () => {
  const gateway = await setup({});
  try {
    assert.equal((await post(gateway, "/hooks/wake", { text: "t" }, {})).status, 401);
    assert.equal(
      (await post(gateway, "/hooks/wake", { text: "t" }, { Authorization: `Bearer ${TOKEN}` })).status,
      401,
      "the gateway token is not a hook token",
    );
    assert.equal((await post(gateway, `/hooks/wake?token=${HOOK_TOKEN}`, { text: "t" })).status, 400);
    assert.equal(
      (await post(gateway, "/hooks/wake", { text: "t" }, { "x-openclaw-token": HOOK_TOKEN })).status,
      200,
    );
    const get = await gateway.fetch(new Request("http://127.0.0.1/hooks/wake"));
    assert.equal(get.status, 405);
    await get.body?.cancel();

    for (let i = 0; i < 20; i++) {
      await post(gateway, "/hooks/wake", { text: "t" }, { Authorization: "Bearer bad" }, "10.0.0.9");
    }
    const locked = await post(gateway, "/hooks/wake", { text: "t" }, undefined, "10.0.0.9");
    assert.equal(locked.status, 429, "even the right token waits out the lockout");
    assert.equal(locked.headers.get("retry-after"), "60");
    const otherIp = await post(gateway, "/hooks/wake", { text: "t" }, undefined, "10.0.0.10");
    assert.equal(otherIp.status, 200);
  } finally {
    await gateway.stop();
  }
});

Deno.test("hooks mappings, body limit, custom path, and disabled hooks", async () => {
  const sink = receiver();
  const gateway = await setup({
    path: "/ingest",
    maxBodyBytes: 512,
    mappings: [{
      id: "gmail",
      match: { path: "gmail" },
      action: "agent",
      name: "Gmail",
      messageTemplate: "Mail from {{messages[0].from}}: {{messages[0].subject}}",
      channel: "webhook",
      to: "inbox",
    }],
  }, sink.url);
  try {
    const mapped = await post(gateway, "/ingest/gmail", { messages: [{ from: "ann", subject: "Lunch" }] });
    assert.equal(mapped.status, 200, mapped.text);
    await sink.until(1);
    assert.equal(sink.received[0].text, 'Local model reply #1: you said "Mail from ann: Lunch".');
    const unknown = await post(gateway, "/ingest/slack", { text: "x" });
    assert.equal(unknown.status, 404);
    const big = await post(gateway, "/ingest/agent", { message: "x".repeat(600) });
    assert.equal(big.status, 413);
    const oldPath = await gateway.fetch(new Request("http://127.0.0.1/hooks/agent", { method: "POST" }));
    assert.equal(oldPath.status, 404);
    await oldPath.body?.cancel();

    gateway.updateConfig({ ...gateway.config(), hooks: { enabled: false, path: "/ingest" } });
    assert.equal((await post(gateway, "/ingest/agent", { message: "x" })).status, 404);
  } finally {
    await gateway.stop();
    await sink.close();
  }
});
