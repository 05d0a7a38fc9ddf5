// The CLI's gateway client against the real core gateway (Deno and Node transports, Deno's WebSocket
// and the `ws` package), and against a server replaying the reference gateway's captured frames.
import assert from "node:assert/strict";
import WS from "ws";
import { createGateway, type Gateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { nodeTransport } from "../node.ts";
import { connectGateway, type WebSocketConstructor } from "../lib/client/connection.ts";
import { GatewayClientError } from "../lib/client/errors.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";

const TOKEN = "client-test-token-0123456789";
const CLIENT = { id: "cli", mode: "cli", version: "0.1.0", platform: "linux" };
const NodeWS = WS as unknown as WebSocketConstructor;

async function startReal(transport = denoTransport()): Promise<{ gateway: Gateway; url: string }> {
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    transport,
    port: 0,
    hostname: "127.0.0.1",
  });
  const address = await gateway.start();
  return { gateway, url: `ws://127.0.0.1:${address!.port}` };
}

async function failure(promise: Promise<unknown>): Promise<GatewayClientError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GatewayClientError, `expected GatewayClientError, got ${err}`);
    return err;
  }
  throw new Error("expected a failure");
}

for (const [name, WebSocketImpl] of [["Deno WebSocket", globalThis.WebSocket], ["ws", NodeWS]] as const) {
  Deno.test(`client (${name}): connects to the core gateway and calls methods`, async () => {
    // Each client against the other runtime's transport: Deno's socket to `ws`, `ws` to Deno.serve.
    const { gateway, url } = await startReal(name === "ws" ? denoTransport() : nodeTransport());
    try {
      const conn = await connectGateway({
        url,
        WebSocket: WebSocketImpl,
        client: CLIENT,
        token: TOKEN,
        timeoutMs: 3000,
      });
      assert.equal(conn.hello.type, "hello-ok");
      assert.equal(conn.hello.protocol, 4);
      assert.deepEqual(conn.hello.auth.scopes, ["operator.read"]);
      const health = await conn.request<{ ok: boolean }>("health");
      assert.equal(health.ok, true);
      const status = await conn.request<{ runtimeVersion: string }>("status");
      assert.equal(typeof status.runtimeVersion, "string");
      const invalid = await failure(conn.request("logs.tail", { limit: 1000000 }));
      assert.equal(invalid.kind, "rpc");
      assert.equal(invalid.code, "INVALID_REQUEST");
      conn.close();
      const closed = await failure(conn.request("health"));
      assert.equal(closed.kind, "closed");
    } finally {
      await gateway.stop();
    }
  });
}

Deno.test("client: a wrong token is an auth failure naming where to fix it", async () => {
  const { gateway, url } = await startReal();
  try {
    const err = await failure(
      connectGateway({
        url,
        WebSocket: globalThis.WebSocket,
        client: CLIENT,
        token: "wrong",
        timeoutMs: 3000,
      }),
    );
    assert.equal(err.kind, "auth");
    assert.equal(err.details?.code, "AUTH_TOKEN_MISMATCH");
    assert.match(err.message, /gateway auth failed at ws:\/\/127\.0\.0\.1:\d+/);
    assert.match(err.message, /--token/);
  } finally {
    await gateway.stop();
  }
});

Deno.test("client: an unknown method is an rpc error with the wire code", async () => {
  const { gateway, url } = await startReal();
  try {
    const conn = await connectGateway({
      url,
      WebSocket: globalThis.WebSocket,
      client: CLIENT,
      token: TOKEN,
      scopes: ["operator.admin"],
    });
    const err = await failure(conn.request("nonexistent.method"));
    assert.equal(err.kind, "rpc");
    assert.equal(err.code, "INVALID_REQUEST");
    assert.match(err.message, /^nonexistent\.method failed: /);
    conn.close();
  } finally {
    await gateway.stop();
  }
});

Deno.test("client: nothing listening is reported as unreachable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  for (const WebSocketImpl of [globalThis.WebSocket, NodeWS]) {
    const err = await failure(
      connectGateway({
        url: `ws://127.0.0.1:${port}`,
        WebSocket: WebSocketImpl,
        client: CLIENT,
        timeoutMs: 3000,
      }),
    );
    assert.equal(err.kind, "unreachable");
    assert.match(err.message, new RegExp(`gateway unreachable at ws://127\\.0\\.0\\.1:${port}`));
  }
});

Deno.test("client: a server that never sends the challenge times out within the budget", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { response } = Deno.upgradeWebSocket(request);
    return response;
  });
  try {
    const started = performance.now();
    const err = await failure(
      connectGateway({
        url: `ws://127.0.0.1:${server.addr.port}`,
        WebSocket: globalThis.WebSocket,
        client: CLIENT,
        timeoutMs: 300,
      }),
    );
    assert.equal(err.kind, "timeout");
    assert.match(err.message, /timed out after 300ms waiting for the handshake/);
    assert.ok(performance.now() - started < 2000);
  } finally {
    await server.shutdown();
  }
});

interface CapturedFrame {
  dir: "in" | "out";
  frame: Record<string, unknown>;
}

Deno.test("client: speaks to a server replaying the reference gateway's frames", async () => {
  const capture: CapturedFrame[] = JSON.parse(
    await Deno.readTextFile(new URL("./fixtures/reference-ws-session.json", import.meta.url)),
  );
  const replies = new Map<string, CapturedFrame["frame"][]>();
  for (let i = 0; i < capture.length; i++) {
    const entry = capture[i];
    if (entry.dir !== "out") continue;
    const answers: CapturedFrame["frame"][] = [];
    for (let j = i + 1; j < capture.length && capture[j].dir === "in"; j++) answers.push(capture[j].frame);
    replies.set(String(entry.frame.method), answers);
  }
  const received: Record<string, unknown>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onopen = () => socket.send(JSON.stringify(capture[0].frame));
    socket.onmessage = (event) => {
      const req = JSON.parse(event.data);
      received.push(req);
      for (const frame of replies.get(req.method) ?? []) {
        socket.send(JSON.stringify(frame.type === "res" ? { ...frame, id: req.id } : frame));
      }
    };
    return response;
  });
  try {
    const events: string[] = [];
    const conn = await connectGateway({
      url: `ws://127.0.0.1:${server.addr.port}`,
      WebSocket: globalThis.WebSocket,
      client: CLIENT,
      token: "tok",
      onEvent: (frame) => events.push(frame.event),
    });
    assert.equal(conn.hello.server.version, "2026.9.6");
    assert.deepEqual(conn.hello.auth.scopes.sort(), ["operator.admin", "operator.read", "operator.write"]);
    const health = await conn.request<{ ok: boolean }>("health");
    assert.equal(health.ok, true);
    assert.deepEqual(
      events,
      ["health"],
      "an event between request and response is delivered, not mistaken for it",
    );
    const presence = await conn.request<unknown[]>("system-presence");
    assert.ok(Array.isArray(presence), "non-object payloads pass through");
    const err = await failure(conn.request("nonexistent.method"));
    assert.equal(err.message, "nonexistent.method failed: unknown method: nonexistent.method");
    conn.close();
    // What we sent is what the reference CLI sends, and valid per the published schema.
    const connect = received[0] as { method: string; params: Record<string, unknown> };
    assert.equal(connect.method, "connect");
    assertMatchesSchema("ConnectParams", connect.params);
    assert.deepEqual(connect.params.auth, { token: "tok" });
    assert.deepEqual(connect.params.client, CLIENT);
    for (const req of received) assertMatchesSchema("RequestFrame", req);
  } finally {
    await server.shutdown();
  }
});
