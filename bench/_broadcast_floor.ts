// The floor for bench/cluster.ts's socket rows: a bare WebSocket server that sends a challenge on open,
// answers every request with `res ok`, and on a `broadcast` request sends one `presence` event to every
// socket, the way the gateway fans one event out (its presence row names the request's `instanceId`, as the
// gateway's does the announcing client's), and answers with the ms that loop took (`fanOutMs`, the figure
// the gateway reports as openclaw_gateway_event_fanout_seconds). Prints its port.
//
// Under Deno it is `Deno.serve` + `Deno.upgradeWebSocket`; under Node (`node --import tsx`) it is
// `node:http` + `ws`, the two servers the gateway's transports are built on.
const CHALLENGE = JSON.stringify({
  type: "event",
  event: "connect.challenge",
  payload: { nonce: "n", ts: 0 },
});

interface Peer {
  send(text: string): void;
}

const sockets = new Set<Peer>();

/** Answers one request frame; a `broadcast` first sends the event to every socket. */
function answer(socket: Peer, data: string): void {
  const frame = JSON.parse(data);
  let payload = {};
  if (frame.method === "broadcast") {
    const started = performance.now();
    const row = { mode: "webchat", reason: "connect", instanceId: frame.params?.instanceId };
    const event = JSON.stringify({ type: "event", event: "presence", payload: { presence: [row] } });
    for (const other of sockets) other.send(event);
    payload = { fanOutMs: performance.now() - started };
  }
  socket.send(JSON.stringify({ type: "res", id: frame.id, ok: true, payload }));
}

if ("Deno" in globalThis) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onopen = () => {
      sockets.add(socket);
      socket.send(CHALLENGE);
    };
    socket.onclose = () => sockets.delete(socket);
    socket.onmessage = (e) => answer(socket, e.data);
    return response;
  });
  console.log(server.addr.port);
} else {
  const { createServer } = await import("node:http");
  const { WebSocketServer } = await import("ws");
  const server = createServer();
  new WebSocketServer({ server }).on("connection", (socket) => {
    sockets.add(socket);
    socket.send(CHALLENGE);
    socket.on("close", () => sockets.delete(socket));
    socket.on("message", (data) => answer(socket, String(data)));
  });
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    console.log(typeof address === "object" && address ? address.port : 0);
  });
}
