// A server process for bench/core_gateway.ts. Modes:
//   gateway-deno | gateway-node  the gateway on that transport (Deno: the default, hardened engine)
//   gateway-deno-native          the gateway on the Deno transport's native engine (Deno.serve)
//   bare-deno | bare-node        the floor: a WebSocket server doing only a minimal challenge/connect
//                                exchange and echoing requests (Deno.serve, or node:http + ws)
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { nodeTransport } from "../node.ts";

const mode = Deno.args[0] ?? "gateway-deno";
const CHALLENGE = JSON.stringify({
  type: "event",
  event: "connect.challenge",
  payload: { nonce: "n", ts: 0 },
});

/** The floor's protocol: challenge on open; answer every request frame with an ok response. */
function floorReply(data: string): string {
  const frame = JSON.parse(data);
  return JSON.stringify({ type: "res", id: frame.id, ok: true, payload: {} });
}

if (mode === "bare-deno") {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onopen = () => socket.send(CHALLENGE);
    socket.onmessage = (e) => socket.send(floorReply(e.data));
    return response;
  });
  console.log(server.addr.port);
} else if (mode === "bare-node") {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws) => {
    ws.send(CHALLENGE);
    ws.on("message", (data) => ws.send(floorReply(String(data))));
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    console.log(typeof address === "object" && address ? address.port : 0);
  });
} else {
  const gateway = createGateway({
    transport: mode === "gateway-node"
      ? nodeTransport()
      : denoTransport({ engine: mode === "gateway-deno-native" ? "native" : "hardened" }),
    port: 0,
    config: { gateway: { auth: { token: "bench-token" } } },
  });
  const address = await gateway.start();
  console.log(address!.port);
}
