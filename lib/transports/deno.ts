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

/** How long `close()` waits for sockets the gateway already closed to finish their close handshake. */
const CLOSE_GRACE_MS = 1_000;

function closedOrTimeout(sockets: Set<WebSocket>, ms: number): Promise<void> {
  const pending = [...sockets].filter((s) => s.readyState !== WebSocket.CLOSED);
  if (!pending.length) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    let left = pending.length;
    for (const socket of pending) {
      socket.addEventListener("close", () => {
        if (--left === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

/** Creates the Deno transport. */
export function denoTransport(): Transport {
  return {
    name: "deno",
    listen(handler: GatewayServerHandler, options: ListenOptions): Promise<ListeningServer> {
      const abort = new AbortController();
      const sockets = new Set<WebSocket>();
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
            // Deno invalidates the request once it is upgraded, so keep copies first.
            const headers = new Headers(request.headers);
            const url = request.url;
            const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
            sockets.add(socket);
            socket.addEventListener("close", () => sockets.delete(socket));
            // Accept now, not on open: the gateway counts unauthenticated sockets at accept time, and a
            // burst of upgrades admitted before any `open` fired would otherwise all pass its cap.
            // Until the socket opens, frames wait in `outbox` and a close is deferred.
            const outbox: string[] = [];
            let deferredClose: [number, string] | undefined;
            const connecting = () => socket.readyState === WebSocket.CONNECTING;
            const handlers = handler.acceptSocket({
              send: (text) => {
                if (connecting()) outbox.push(text);
                else if (socket.readyState === WebSocket.OPEN) socket.send(text);
              },
              close: (code, reason) => {
                if (connecting()) deferredClose = [code, reason];
                else socket.close(code, reason);
              },
              bufferedAmount: () => socket.bufferedAmount,
            }, { remoteAddress, headers, url });
            socket.onopen = () => {
              for (const text of outbox.splice(0)) socket.send(text);
              if (deferredClose) socket.close(...deferredClose);
            };
            socket.onmessage = (event) =>
              handlers.message(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
            socket.onclose = (event) => handlers.closed(event.code, event.reason);
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
            // Let the gateway's own close frames (1012) finish before Deno's shutdown closes leftovers with 1001.
            await closedOrTimeout(sockets, CLOSE_GRACE_MS);
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
