// The floor for bench/cluster.ts: a bare `Deno.upgradeWebSocket` server that sends a challenge on open,
// answers every request with `res ok`, and on a `broadcast` request sends one `presence` event to every
// socket, the way the gateway fans one event out. Prints its port.
const CHALLENGE = JSON.stringify({
  type: "event",
  event: "connect.challenge",
  payload: { nonce: "n", ts: 0 },
});
const sockets = new Set<WebSocket>();
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onopen = () => {
    sockets.add(socket);
    socket.send(CHALLENGE);
  };
  socket.onclose = () => sockets.delete(socket);
  socket.onmessage = (e) => {
    const frame = JSON.parse(e.data);
    socket.send(JSON.stringify({ type: "res", id: frame.id, ok: true, payload: {} }));
    if (frame.method !== "broadcast") return;
    const event = JSON.stringify({ type: "event", event: "presence", payload: { presence: [] } });
    for (const other of sockets) other.send(event);
  };
  return response;
});
console.log(server.addr.port);
