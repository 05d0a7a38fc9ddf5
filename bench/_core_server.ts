// A server process for bench/core_gateway.ts: the gateway (Deno transport) or a bare WebSocket floor.
import { createGateway, denoTransport } from "../mod.ts";

const mode = Deno.args[0] ?? "gateway";
if (mode === "bare") {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  });
  console.log(server.addr.port);
} else {
  const gateway = createGateway({
    transport: denoTransport(),
    port: 0,
    config: { gateway: { auth: { token: "bench-token" } } },
  });
  const address = await gateway.start();
  console.log(address!.port);
}
