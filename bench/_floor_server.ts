// The floor for bench/side_by_side.ts: a bare Deno.serve that speaks just enough of protocol v4 for the
// same client code (a challenge on open, `res ok` for every request) and answers any HTTP path with 200.
// Usage: deno run -A bench/_floor_server.ts <port>
const port = Number(Deno.args[0] ?? 0);
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (request) => {
  if (request.headers.get("upgrade") !== "websocket") return Response.json({ ok: true, status: "live" });
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onopen = () =>
    socket.send(JSON.stringify({ type: "event", event: "connect.challenge", payload: {} }));
  socket.onmessage = (e) => {
    const { id } = JSON.parse(e.data);
    socket.send(JSON.stringify({ type: "res", id, ok: true, payload: { type: "hello-ok" } }));
  };
  return response;
});
