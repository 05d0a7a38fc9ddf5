/**
 * The native Deno engine: `Deno.serve` for HTTP and `Deno.upgradeWebSocket` for sockets, on one port.
 * Faster than the hardened engine, but Deno gives it no header-read timeout, buffers each WebSocket frame
 * whole before JS sees it, and drops a text frame with invalid UTF-8 without a close frame.
 *
 * @module
 */
import { GatewayError } from "../../errors.ts";
import type { GatewayServerHandler, SocketHandlers, SocketWire } from "../../ws/wire.ts";
import {
  addressInUse,
  bindFailed,
  FETCH_FORBIDDEN_METHODS,
  isUpgrade,
  type ListeningServer,
  type ListenOptions,
  throttledWarning,
} from "../types.ts";

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

/**
 * The peer address, read from Deno only when a route asks (most authenticated requests never do). A class,
 * not an object literal with a getter: V8 gives each such literal a map of its own, maps live in old
 * space, and through the getter's closure each one kept its request alive across young-generation
 * collections (~1 KB per request promoted, then freed only by a full mark-compact).
 */
class PeerInfo {
  readonly #info: Deno.ServeHandlerInfo<Deno.NetAddr>;
  constructor(info: Deno.ServeHandlerInfo<Deno.NetAddr>) {
    this.#info = info;
  }
  get remoteAddress(): string {
    return this.#info.remoteAddr.hostname;
  }
}

/**
 * Answers a request that carries a body, re-wrapped so the transport can fail it on shutdown and release
 * it once the handler has answered. `pending` holds one failer per body still being read.
 */
function fetchWithBody(
  handler: GatewayServerHandler,
  request: Request,
  info: PeerInfo,
  pending: Set<() => void>,
): Response | Promise<Response> {
  // CONNECT, TRACE and TRACK cannot be rebuilt (fetch forbids them); no route takes them, so the router
  // answers 405 without reading a body, and the unread body is dropped afterwards.
  if (FETCH_FORBIDDEN_METHODS.has(request.method)) {
    return answerThen(handler, request, info, () => void request.body?.cancel().catch(() => {}));
  }
  const reader = request.body!.getReader();
  let fail = () => {};
  let finished = false;
  const finish = () => {
    finished = true;
    pending.delete(fail);
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      fail = () => controller.error(new Error("gateway stopping: request body interrupted"));
      pending.add(fail);
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          finish();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  const wrapped = new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body,
    signal: request.signal,
    // @ts-ignore: `duplex` is required for streaming bodies but missing from the DOM types.
    duplex: "half",
  });
  // A body the handler left unread (404, 401, an early error) would otherwise keep its connection's
  // descriptor forever once the client hangs up: Deno only frees it when the reader lets go.
  return answerThen(handler, wrapped, info, () => {
    if (finished) return;
    finish();
    reader.cancel().catch(() => {});
  });
}

/** The handler's answer to `request`, calling `release` once it is settled (or has thrown). */
function answerThen(
  handler: GatewayServerHandler,
  request: Request,
  info: PeerInfo,
  release: () => void,
): Response | Promise<Response> {
  let answer: Response | Promise<Response>;
  try {
    answer = handler.fetch(request, info);
  } catch (error) {
    release();
    throw error;
  }
  if (answer instanceof Promise) return answer.finally(release);
  release();
  return answer;
}

/**
 * An upgraded socket as the gateway's {@link SocketWire}, and its one event listener. A class rather than a
 * closure per callback: each closure a socket keeps for its lifetime costs memory on every one of 10,000
 * sockets. Accepted before the socket opens (the gateway counts unauthenticated sockets at accept time, and
 * a burst of upgrades admitted before any `open` fired would otherwise all pass its cap): until it opens,
 * frames wait in the outbox and a close is deferred.
 */
class NativeSocketWire implements SocketWire, EventListenerObject {
  handlers: SocketHandlers | undefined;
  #outbox: string[] | undefined = [];
  #deferredClose: [number, string] | undefined;

  constructor(readonly socket: WebSocket, readonly sockets: Set<WebSocket>) {
    sockets.add(socket);
    socket.addEventListener("open", this);
    socket.addEventListener("message", this);
    socket.addEventListener("close", this);
  }

  send(text: string): void {
    if (this.socket.readyState === WebSocket.CONNECTING) this.#outbox!.push(text);
    else if (this.socket.readyState === WebSocket.OPEN) this.socket.send(text);
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === WebSocket.CONNECTING) this.#deferredClose = [code, reason];
    else this.socket.close(code, reason);
  }

  bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  handleEvent(event: Event): void {
    if (event.type === "message") {
      const data = (event as MessageEvent).data;
      this.handlers!.message(typeof data === "string" ? data : new Uint8Array(data));
    } else if (event.type === "open") {
      for (const text of this.#outbox!) this.socket.send(text);
      this.#outbox = undefined;
      if (this.#deferredClose) this.socket.close(...this.#deferredClose);
      this.#deferredClose = undefined;
    } else if (event.type === "close") {
      this.sockets.delete(this.socket);
      const { code, reason } = event as CloseEvent;
      this.handlers!.closed(code, reason);
    }
  }
}

/** Listens with `Deno.serve`; `closeGraceMs` is what `close()` gives sockets the gateway already closed. */
export function listenNative(
  handler: GatewayServerHandler,
  options: ListenOptions,
  pem: { cert: string; key: string } | undefined,
  timeouts: { drainTimeoutMs: number; closeGraceMs: number },
): Promise<ListeningServer> {
  const { drainTimeoutMs, closeGraceMs } = timeouts;
  const sockets = new Set<WebSocket>();
  const bodies = new Set<() => void>();
  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    let closing = false;
    let serve: (port: number) => Deno.HttpServer<Deno.NetAddr>;
    try {
      serve = (port) =>
        Deno.serve({
          hostname: options.hostname,
          port,
          ...pem,
          onListen: () => {},
          onError: (error) => {
            console.error("http handler crashed", error);
            return new Response("Internal Server Error", { status: 500 });
          },
        }, (request, info) => {
          // GET and HEAD carry no body; not touching `request.body` spares Deno building a stream per
          // request, and no wrapper or release is needed then.
          if (!isUpgrade(request)) {
            return request.method === "GET" || request.method === "HEAD" || !request.body
              ? handler.fetch(request, new PeerInfo(info))
              : fetchWithBody(handler, request, new PeerInfo(info), bodies);
          }
          const remoteAddress = info.remoteAddr.hostname;
          const refused = handler.admitUpgrade(request, { remoteAddress });
          if (refused) return refused;
          // Deno invalidates the request once it is upgraded, so keep copies first.
          const headers = new Headers(request.headers);
          const url = request.url;
          const { socket, response } = Deno.upgradeWebSocket(request, { idleTimeout: 0 });
          const wire = new NativeSocketWire(socket, sockets);
          wire.handlers = handler.acceptSocket(wire, { remoteAddress, headers, url });
          return response;
        });
      server = serve(options.port);
    } catch (error) {
      if (error instanceof GatewayError) return reject(error);
      reject(error instanceof Deno.errors.AddrInUse ? addressInUse(options) : bindFailed(options, error));
      return;
    }
    const addr = server.addr;
    // When `accept()` fails (EMFILE under a connection flood) Deno.serve's loop ends with an error
    // that would otherwise be unhandled and end the process. Connections already accepted carry on;
    // listen again on the same port, backing off while descriptors stay exhausted.
    const acceptFailed = throttledWarning(
      options.logger,
      "accepting connections failed; listening again",
    );
    let retry: ReturnType<typeof setTimeout> | undefined;
    const relisten = (delayMs: number) =>
      retry = setTimeout(() => {
        if (closing) return;
        try {
          server = serve(addr.port);
          watch();
        } catch (error) {
          acceptFailed({ error: String(error) });
          relisten(Math.min(delayMs * 2, 1_000));
        }
      }, delayMs);
    const watch = () =>
      server.finished.catch((error) => {
        if (closing) return;
        acceptFailed({ error: String(error) });
        relisten(10);
      });
    watch();
    resolve({
      hostname: addr.hostname,
      port: addr.port,
      async close() {
        closing = true;
        clearTimeout(retry);
        // Let the gateway's own close frames (1012) finish before Deno's shutdown closes leftovers with 1001.
        await closedOrTimeout(sockets, closeGraceMs);
        // Aborting Deno.serve while a request body is still streaming in throws an uncaught
        // BadResource, so instead fail those bodies: their handlers answer. A client that keeps
        // sending anyway would hold shutdown open forever; the listener is already closed by then,
        // so stop waiting after a second grace period and let the connection die on its own.
        const shutdown = server.shutdown().catch(() => {});
        let timer: ReturnType<typeof setTimeout> | undefined;
        const grace = (ms: number) => new Promise<void>((r) => (timer = setTimeout(r, ms)));
        const first = await Promise.race([
          shutdown.then(() => true),
          grace(drainTimeoutMs).then(() => false),
        ]);
        clearTimeout(timer);
        if (!first) {
          bodies.forEach((fail) => fail());
          await Promise.race([shutdown, grace(drainTimeoutMs)]);
          clearTimeout(timer);
        }
      },
    });
  });
}
