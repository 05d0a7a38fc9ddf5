// The native engine's sockets (Deno.upgradeWebSocket) through the one listener object each socket has: the
// gateway is handed a socket before it opens, so what it sends then (the challenge) waits for the open and a
// close it asks for then (a socket guard's refusal) is made once the socket opens; an open socket's
// requests, the client's close and the gateway's shutdown close go through as before.
import assert from "node:assert/strict";
import WebSocket from "ws";
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { connectParams, TOKEN } from "./_helpers.ts";

async function nativeGateway() {
  const gateway = createGateway({
    transport: denoTransport({ engine: "native" }),
    port: 0,
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    modules: [{
      name: "refuse-marked",
      setup: (ctx) =>
        ctx.guardSockets((info) => info.url.includes("refuse") ? "refused by the test guard" : undefined),
    }],
  });
  const address = await gateway.start();
  return { gateway, url: `ws://127.0.0.1:${address!.port}` };
}

/** A client recording every frame and its close. */
function client(url: string) {
  const ws = new WebSocket(url);
  const frames: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  ws.on("message", (data) => {
    frames.push(JSON.parse(String(data)));
    waiters.splice(0).forEach((wake) => wake());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }))
  );
  const waitFor = async (predicate: (frame: Record<string, unknown>) => boolean) => {
    for (;;) {
      const hit = frames.find(predicate);
      if (hit) return hit;
      await new Promise<void>((wake) => waiters.push(wake));
    }
  };
  return { ws, frames, closed, waitFor };
}

Deno.test("native engine: a socket refused at accept is closed with the refusal once it opens", async () => {
  const { gateway, url } = await nativeGateway();
  try {
    const refused = client(`${url}/?refuse=1`);
    const { code, reason } = await refused.closed;
    assert.equal(code, 1008);
    assert.equal(reason, "refused by the test guard");
  } finally {
    await gateway.stop();
  }
});

Deno.test("native engine: challenge before open, requests, client close, shutdown close 1012", async () => {
  const { gateway, url } = await nativeGateway();
  const leaving = client(url);
  await leaving.waitFor((f) => f.event === "connect.challenge");
  leaving.ws.close(1000, "bye");
  assert.equal((await leaving.closed).code, 1000);
  const staying = client(url);
  await staying.waitFor((f) => f.event === "connect.challenge");
  staying.ws.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: connectParams() }));
  assert.equal((await staying.waitFor((f) => f.id === "c")).ok, true);
  staying.ws.send(JSON.stringify({ type: "req", id: "h", method: "health", params: {} }));
  assert.equal((await staying.waitFor((f) => f.id === "h")).ok, true);
  await gateway.stop({ reason: "gateway stopping" });
  assert.equal((await staying.closed).code, 1012);
});
