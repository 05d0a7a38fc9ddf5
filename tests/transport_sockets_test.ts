// Real loopback sockets through both network transports, driven by raw `ws` and the reference client.
import assert from "node:assert/strict";
import WebSocket from "ws";
import { GatewayClient } from "@openclaw/gateway-client";
import { createGateway, type Gateway, type Transport } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { nodeTransport } from "../node.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";
import { connectParams, TOKEN } from "./_helpers.ts";

async function started(transport: Transport): Promise<{ gateway: Gateway; url: string; port: number }> {
  const gateway = createGateway({
    transport,
    port: 0,
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
  });
  const address = await gateway.start();
  return { gateway, url: `ws://127.0.0.1:${address!.port}`, port: address!.port };
}

function rawSession(url: string) {
  const ws = new WebSocket(url);
  const frames: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  ws.on("message", (data) => {
    frames.push(JSON.parse(String(data)));
    waiters.splice(0).forEach((w) => w());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }))
  );
  const errors: Error[] = [];
  ws.on("error", (e) => errors.push(e));
  const waitFor = async (predicate: (f: Record<string, unknown>) => boolean) => {
    for (;;) {
      const hit = frames.find(predicate);
      if (hit) return hit;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { ws, waitFor, closed, errors };
}

for (const make of [denoTransport, nodeTransport]) {
  const name = make().name;

  Deno.test(`${name} transport: ws client handshake, request, shutdown close 1012`, async () => {
    const { gateway, url } = await started(make());
    const s = rawSession(url);
    const challenge = await s.waitFor((f) => f.event === "connect.challenge");
    assert.ok((challenge.payload as { nonce: string }).nonce);
    s.ws.send(JSON.stringify({ type: "req", id: "c1", method: "connect", params: connectParams() }));
    const hello = await s.waitFor((f) => f.id === "c1");
    assertMatchesSchema("HelloOk", hello.payload);
    s.ws.send(JSON.stringify({ type: "req", id: "h1", method: "health", params: {} }));
    const health = await s.waitFor((f) => f.id === "h1");
    assert.equal(health.ok, true);
    await gateway.stop({ reason: "gateway stopping" });
    const shutdown = await s.waitFor((f) => f.event === "shutdown");
    assert.deepEqual(shutdown.payload, { reason: "gateway stopping" });
    assert.deepEqual(await s.closed, { code: 1012, reason: "service restart" });
    assert.deepEqual(s.errors, [], "the ws client must not see an invalid close frame");
  });

  Deno.test(`${name} transport: HTTP health with security headers on the same port`, async () => {
    const { gateway, port } = await started(make());
    // Repeated: the answer is a prepared response, handed out as a fresh copy each time.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ok: true, status: "live" });
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("referrer-policy"), "no-referrer");
      assert.equal(res.headers.get("cache-control"), "no-store");
    }
    const head = await fetch(`http://127.0.0.1:${port}/healthz`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const missing = await fetch(`http://127.0.0.1:${port}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), "Not Found");
    await gateway.stop();
  });

  Deno.test(`${name} transport: second instance on the same port fails with EADDRINUSE wording`, async () => {
    const { gateway, port } = await started(make());
    const second = createGateway({
      transport: make(),
      port,
      config: { gateway: { auth: { token: TOKEN } } },
    });
    await assert.rejects(
      second.start(),
      /another gateway instance is already listening on ws:\/\/127\.0\.0\.1:\d+/,
    );
    await gateway.stop();
  });

  Deno.test(`${name} transport: the reference @openclaw/gateway-client connects and calls methods`, async () => {
    const { gateway, url } = await started(make());
    const hello = Promise.withResolvers<unknown>();
    const events: string[] = [];
    const closed = Promise.withResolvers<{ code: number; reason: string }>();
    const client = new GatewayClient(
      {
        url,
        token: TOKEN,
        minProtocol: 4,
        maxProtocol: 4,
        scopes: ["operator.read", "operator.write", "operator.admin"],
        onHelloOk: (h: unknown) => hello.resolve(h),
        onConnectError: (e: unknown) => hello.reject(e),
        onEvent: (e: { event: string }) => events.push(e.event),
        onClose: (code: number, reason: string) => closed.resolve({ code, reason }),
      } as ConstructorParameters<typeof GatewayClient>[0],
    );
    client.start();
    await hello.promise;
    const health = await client.request("health", {}) as { ok: boolean };
    assert.equal(health.ok, true);
    const status = await client.request("status", {}) as { runtimeVersion: string };
    assert.equal(typeof status.runtimeVersion, "string");
    const presence = await client.request("system-presence", {}) as unknown[];
    assert.ok(Array.isArray(presence));
    await assert.rejects(client.request("nonexistent.method", {}), /unknown method: nonexistent\.method/);
    await gateway.stop({ reason: "gateway stopping" });
    const close = await closed.promise;
    assert.equal(close.code, 1012);
    assert.ok(events.includes("shutdown"));
    await client.stopAndWait?.({ timeoutMs: 1000 }).catch(() => {});
    client.stop();
  });
}

Deno.test("binding beyond loopback without auth is refused", async () => {
  const gateway = createGateway({
    transport: denoTransport(),
    port: 0,
    config: { gateway: { bind: "lan", auth: { mode: "none" } } },
  });
  await assert.rejects(gateway.start(), /refusing to bind gateway to 0\.0\.0\.0:0 without auth/);
});

Deno.test("deno transport: stopping while a client keeps streaming a request body neither hangs nor crashes", async () => {
  const gateway = createGateway({
    transport: denoTransport({ drainTimeoutMs: 200 }),
    port: 0,
    config: { gateway: { auth: { token: TOKEN } } },
  });
  gateway.registerRoute({ path: "/upload", handler: async (request) => new Response(await request.text()) });
  const address = await gateway.start();
  const body = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("partial")) });
  const response = fetch(`http://127.0.0.1:${address!.port}/upload`, { method: "POST", body });
  await new Promise((r) => setTimeout(r, 100));
  const started = performance.now();
  await gateway.stop();
  assert.ok(performance.now() - started < 5000, "stop must give up on the stuck body");
  const res = await response;
  assert.equal(res.status, 500);
  await res.body?.cancel();
});
