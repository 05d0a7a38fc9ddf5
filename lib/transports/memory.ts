/**
 * The in-memory transport: clients reach a gateway with no socket at all. Tests and embedding apps use it
 * to drive the real protocol path (upgrade admission, handshake, scopes, events, HTTP routes) in-process.
 *
 * @module
 */
import type { GatewayServerHandler, SocketHandlers } from "../ws/wire.ts";
import type { ListeningServer, ListenOptions, Transport } from "./types.ts";

/** A frame as the client receives it. */
export type Frame = Record<string, unknown> & { type: string };

/** Options for {@link openMemorySocket} and {@link MemoryTransport.connect}. */
export interface MemorySocketOptions {
  /** The peer address the gateway sees (default `127.0.0.1`). */
  remoteAddress?: string;
  /** Headers of the upgrade request (`origin`, proxy headers, ...). */
  headers?: HeadersInit;
}

/** The client end of an in-memory socket. */
export interface MemorySocket {
  /** Sends a frame (objects are JSON-encoded; strings go as they are). */
  send(frame: unknown): void;
  /** Resolves with the next frame the gateway sends, or rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Frame>;
  /** Resolves with the next frame matching `predicate`; frames skipped on the way are kept in `skipped`. */
  waitFor(predicate: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  /** Frames passed over by `waitFor`. */
  readonly skipped: Frame[];
  /** Resolves when the gateway closes the socket. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Closes from the client side. */
  close(code?: number, reason?: string): void;
  /** Pretends this many bytes are queued, to simulate a slow consumer. */
  setBufferedAmount(bytes: number): void;
}

/**
 * Opens an in-memory socket to `gateway` (which must be started). Upgrade admission rules apply.
 *
 * @example Drive the socket path of a gateway that has no transport
 * ```ts
 * import { createGateway, openMemorySocket } from "@openclaw-ts/gateway";
 *
 * const gateway = createGateway({ config: { gateway: { auth: { token: "s3cret" } } } });
 * await gateway.start();
 * const socket = openMemorySocket(gateway, { remoteAddress: "192.0.2.10" });
 * const challenge = await socket.next();
 * if (challenge.event !== "connect.challenge") throw new Error(JSON.stringify(challenge));
 * socket.close();
 * await gateway.stop();
 * ```
 */
export function openMemorySocket(
  gateway: { readonly handler: GatewayServerHandler },
  options: MemorySocketOptions = {},
): MemorySocket {
  return connectHandler(gateway.handler, options);
}

function connectHandler(handler: GatewayServerHandler, options: MemorySocketOptions): MemorySocket {
  const remoteAddress = options.remoteAddress ?? "127.0.0.1";
  const headers = new Headers(options.headers);
  const request = new Request("http://memory.invalid/", {
    headers: { ...Object.fromEntries(headers), upgrade: "websocket" },
  });
  const refused = handler.admitUpgrade(request, { remoteAddress });
  if (refused) throw new Error(`upgrade refused with HTTP ${refused.status}`);

  const inbox: Frame[] = [];
  const waiters: ((frame: Frame) => void)[] = [];
  const skipped: Frame[] = [];
  let buffered = 0;
  let open = true;
  let resolveClosed!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));

  const handlers: SocketHandlers = handler.acceptSocket({
    send(text) {
      if (!open) return;
      const frame = JSON.parse(text) as Frame;
      const waiter = waiters.shift();
      if (waiter) waiter(frame);
      else inbox.push(frame);
    },
    close(code, reason) {
      if (!open) return;
      open = false;
      resolveClosed({ code, reason });
    },
    bufferedAmount: () => buffered,
  }, { remoteAddress, headers, url: "ws://memory.invalid/" });

  const next = (timeoutMs = 5000): Promise<Frame> => {
    const queued = inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(deliver), 1);
        reject(new Error(`no frame within ${timeoutMs}ms`));
      }, timeoutMs);
      const deliver = (frame: Frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      waiters.push(deliver);
    });
  };

  return {
    send(frame) {
      if (!open) throw new Error("socket is closed");
      // Delivered asynchronously, as a network would, so handlers never re-enter the caller.
      const data = typeof frame === "string" ? frame : JSON.stringify(frame);
      queueMicrotask(() => open && handlers.message(data));
    },
    next,
    async waitFor(predicate, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const frame = await next(Math.max(1, deadline - Date.now()));
        if (predicate(frame)) return frame;
        skipped.push(frame);
      }
    },
    skipped,
    closed,
    close(code = 1000, reason = "") {
      if (!open) return;
      open = false;
      handlers.closed(code, reason);
      resolveClosed({ code, reason });
    },
    setBufferedAmount(bytes) {
      buffered = bytes;
    },
  };
}

/** A `RequestInit` plus the peer address the gateway should see. */
export interface MemoryRequestInit extends RequestInit {
  /** The peer address the gateway sees (default `127.0.0.1`). */
  remoteAddress?: string;
}

/** A {@link Transport} whose clients live in the same process: `connect()` for sockets, `fetch()` for HTTP. */
export interface MemoryTransport extends Transport {
  /**
   * Sends an HTTP request to the listening gateway. A path (`"/health"`) is resolved against the
   * listener's address. Rejects, as a refused connection would, when the gateway is not listening.
   */
  fetch(input: Request | URL | string, init?: MemoryRequestInit): Promise<Response>;
  /** Opens a socket to the listening gateway; throws when it is not listening or refuses the upgrade. */
  connect(options?: MemorySocketOptions): MemorySocket;
}

/**
 * Creates the in-memory transport. Pass it as `createGateway({ transport })`; after `start()` its
 * `fetch()` and `connect()` reach the gateway the way a network client would, through the same
 * {@link GatewayServerHandler} a network transport drives.
 *
 * @example Reach a gateway over HTTP and a socket without a network
 * ```ts
 * import { createGateway, memoryTransport } from "@openclaw-ts/gateway";
 *
 * const transport = memoryTransport();
 * const gateway = createGateway({ transport, config: { gateway: { auth: { token: "s3cret" } } } });
 * await gateway.start();
 *
 * const ready = await transport.fetch("/ready", { remoteAddress: "192.0.2.10" });
 * if (ready.status !== 200) throw new Error(`/ready answered ${ready.status}`);
 * await ready.body?.cancel();
 * const socket = transport.connect({ remoteAddress: "192.0.2.10" });
 * const challenge = await socket.next();
 * if (challenge.event !== "connect.challenge") throw new Error(JSON.stringify(challenge));
 * socket.close();
 * await gateway.stop();
 * ```
 */
export function memoryTransport(): MemoryTransport {
  let listening: { handler: GatewayServerHandler; base: string } | undefined;
  const current = () => {
    if (!listening) throw new TypeError("memory transport: connection refused (gateway not listening)");
    return listening;
  };
  return {
    name: "memory",
    listen(handler: GatewayServerHandler, options: ListenOptions): Promise<ListeningServer> {
      if (listening) return Promise.reject(new Error("memory transport: already listening"));
      const server: ListeningServer = {
        hostname: options.hostname,
        port: options.port,
        close() {
          if (listening?.handler === handler) listening = undefined;
          return Promise.resolve();
        },
      };
      const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
      listening = { handler, base: `http://${host}:${options.port}/` };
      return Promise.resolve(server);
    },
    async fetch(input, init = {}) {
      const { handler, base } = current();
      const { remoteAddress = "127.0.0.1", ...requestInit } = init;
      const target = input instanceof Request ? input : new URL(input, base);
      return await handler.fetch(new Request(target, requestInit), { remoteAddress });
    },
    connect(options = {}) {
      return connectHandler(current().handler, options);
    },
  };
}
