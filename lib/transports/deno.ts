/**
 * The Deno transport: `Deno.serve` for HTTP and `Deno.upgradeWebSocket` for sockets, on one port.
 *
 * @module
 */
import type { GatewayServerHandler } from "../ws/wire.ts";
import {
  addressInUse,
  bindFailed,
  isUpgrade,
  type ListeningServer,
  type ListenOptions,
  type Transport,
} from "./types.ts";

/** How long `close()` waits for in-flight HTTP requests before aborting them. */
const DRAIN_TIMEOUT_MS = 5_000;

/** Creates the Deno transport. */
export function denoTransport(): Transport {
  return {
    name: "deno",
    listen(handler: GatewayServerHandler, options: ListenOptions): Promise<ListeningServer> {
      const abort = new AbortController();
      return new Promise((resolve, reject) => {
        let server: Deno.HttpServer<Deno.NetAddr>;
        try {
          server = Deno.serve({
            hostname: options.hostname,
            port: options.port,
            signal: abort.signal,
            onListen: () => {},
            onError: (error) => {
              console.error("http handler crashed", error);
              return new Response("Internal Server Error", { status: 500 });
            },
          }, (request, info) => {
            const remoteAddress = info.remoteAddr.hostname;
            if (!isUpgrade(request)) return handler.fetch(request, { remoteAddress });
            const refused = handler.admitUpgrade(request, { remoteAddress });
            if (refused) return refused;
            const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
            socket.onopen = () => {
              const handlers = handler.acceptSocket({
                send: (text) => socket.readyState === WebSocket.OPEN && socket.send(text),
                close: (code, reason) => socket.close(code, reason),
                bufferedAmount: () => socket.bufferedAmount,
              }, { remoteAddress, headers: request.headers, url: request.url });
              socket.onmessage = (event) =>
                handlers.message(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
              socket.onclose = (event) => handlers.closed(event.code, event.reason);
            };
            return response;
          });
        } catch (error) {
          reject(error instanceof Deno.errors.AddrInUse ? addressInUse(options) : bindFailed(options, error));
          return;
        }
        const addr = server.addr;
        resolve({
          hostname: addr.hostname,
          port: addr.port,
          async close() {
            const timer = setTimeout(() => abort.abort(), DRAIN_TIMEOUT_MS);
            try {
              await server.shutdown();
            } finally {
              clearTimeout(timer);
            }
          },
        });
      });
    },
  };
}
