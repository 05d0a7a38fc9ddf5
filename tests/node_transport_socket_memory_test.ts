// What the Node transport keeps per open socket for its lifetime (10,000 sockets each keep it): not the
// chunk its last frame was read in (`ws` holds the frame's mask, a view into that chunk, until the next
// frame), and no close listener of its own (`ws`'s client tracking gives each socket a closure); the
// transport still ends every open socket when it closes.
import assert from "node:assert/strict";
import WebSocket from "ws";
import { nodeTransport } from "../node.ts";
import type { GatewayServerHandler, SocketInfo, SocketWire } from "../lib/ws/wire.ts";

/** What the test can see of `ws`'s server-side socket behind the Node transport's wire. */
interface WsInternals {
  _receiver: { _mask?: unknown };
  listenerCount(event: string): number;
}

/** A server handler that answers nothing and records each socket's wire and messages. */
function recordingHandler() {
  const wires: SocketWire[] = [];
  const messages: string[] = [];
  const waiters: (() => void)[] = [];
  const handler: GatewayServerHandler = {
    fetch: () => new Response("no", { status: 404 }),
    admitUpgrade: () => null,
    acceptSocket(wire: SocketWire, _info: SocketInfo) {
      wires.push(wire);
      return {
        message(data) {
          messages.push(String(data));
          waiters.splice(0).forEach((wake) => wake());
        },
        messageLimit: () => 64 * 1024,
        closed() {},
      };
    },
  };
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise<void>((wake) => waiters.push(wake));
  };
  return { handler, wires, messages, until };
}

const serverSocket = (wire: SocketWire) => (wire as unknown as { ws: WsInternals }).ws;

async function client(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return ws;
}

Deno.test("node transport: a socket keeps neither its last frame's read chunk nor a close closure of its own", async () => {
  const { handler, wires, messages, until } = recordingHandler();
  const server = await nodeTransport().listen(handler, { hostname: "127.0.0.1", port: 0 });
  const ws = await client(server.port);
  try {
    ws.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: { pad: "x".repeat(2_000) } }));
    await until(() => messages.length === 1);
    const socket = serverSocket(wires[0]);
    assert.equal(socket._receiver._mask, undefined);
    assert.equal(socket.listenerCount("close"), 1);
    // The next frame is read and unmasked as before.
    ws.send("second");
    await until(() => messages.length === 2);
    assert.equal(messages[1], "second");
    assert.equal(socket._receiver._mask, undefined);
  } finally {
    ws.close();
    await server.close();
  }
});

Deno.test("node transport: closing the listener ends every open socket", async () => {
  const { handler, wires } = recordingHandler();
  const server = await nodeTransport().listen(handler, { hostname: "127.0.0.1", port: 0 });
  const sockets = [await client(server.port), await client(server.port)];
  const closed = sockets.map((ws) => new Promise((resolve) => ws.once("close", resolve)));
  assert.equal(wires.length, 2);
  await server.close();
  await Promise.all(closed);
  assert.ok(sockets.every((ws) => ws.readyState === WebSocket.CLOSED));
});
