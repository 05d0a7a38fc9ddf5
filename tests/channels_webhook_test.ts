// Generic webhook channel end to end: signed inbound POST → agent turn with the local model → signed
// outbound POST received by a loopback server, which verifies the HMAC.
import assert from "node:assert/strict";
import { agentsModule } from "../lib/agents/mod.ts";
import { channelsModule, SIGNATURE_HEADER, signWebhookBody, TIMESTAMP_HEADER } from "../lib/channels/mod.ts";
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { client, TOKEN } from "./_helpers.ts";

// Status payloads are checked field by field; a loose type keeps the assertions short.
// deno-lint-ignore no-explicit-any
type Loose = Record<string, any>;

const SECRET = "webhook-shared-secret";

function receiver() {
  const received: { body: Record<string, unknown>; validSignature: boolean }[] = [];
  const waiters: (() => void)[] = [];
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: controller.signal, onListen() {} },
    async (req) => {
      if (req.method === "HEAD") return new Response(null, { status: 204 });
      const text = await req.text();
      const ts = Number(req.headers.get(TIMESTAMP_HEADER));
      const expected = await signWebhookBody(SECRET, ts, text);
      received.push({
        body: JSON.parse(text),
        validSignature: req.headers.get(SIGNATURE_HEADER) === expected,
      });
      waiters.shift()?.();
      return new Response(null, { status: 204 });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/replies`,
    received,
    next: () => received.length ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)),
    async close() {
      controller.abort();
      await server.finished;
    },
  };
}

async function signedPost(url: string, body: unknown, secret = SECRET, ts = Date.now()) {
  const text = JSON.stringify(body);
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      [SIGNATURE_HEADER]: await signWebhookBody(secret, ts, text),
      [TIMESTAMP_HEADER]: String(ts),
    },
    body: text,
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("webhook channel: signed inbound → local model turn → signed outbound reply", async () => {
  const sink = receiver();
  const agents = agentsModule();
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN } },
      channels: { webhook: { secret: SECRET, outboundUrl: sink.url } },
    },
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    modules: [agents, channelsModule({ agents })],
  });
  const { port } = (await gateway.start())!;
  const inbound = `http://127.0.0.1:${port}/channels/webhook/inbound`;
  try {
    const bad = await signedPost(inbound, { from: "u1", text: "forged" }, "not-the-secret");
    assert.equal(bad.status, 401);
    assert.equal(bad.body.error, "signature mismatch");
    const stale = await signedPost(
      inbound,
      { from: "u1", text: "replayed" },
      SECRET,
      Date.now() - 10 * 60_000,
    );
    assert.equal(stale.status, 401);
    const invalid = await signedPost(inbound, { text: "no sender" });
    assert.equal(invalid.status, 400);

    const ok = await signedPost(inbound, {
      from: "u1",
      conversationId: "conv-9",
      text: "order status please",
    });
    assert.deepEqual(ok, { status: 202, body: { ok: true } });
    await sink.next();
    assert.equal(sink.received.length, 1, "forged, stale and invalid requests started no turn");
    const [reply] = sink.received;
    assert.equal(reply.validSignature, true);
    assert.equal(reply.body.to, "conv-9");
    assert.equal(reply.body.text, 'Local model reply #1: you said "order status please".');

    const c = await client(gateway);
    const status = await c.request("channels.status", { probe: true });
    const channels = (status.payload as Loose).channels;
    assert.equal(channels.webhook.running, true);
    assert.equal(channels.webhook.probe.ok, true);
    c.socket.close();
  } finally {
    await gateway.stop();
    await sink.close();
  }
});
