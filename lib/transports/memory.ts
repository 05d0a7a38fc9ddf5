/**
 * The in-memory transport: a scripted client talks to a gateway with no socket at all. Tests and
 * embedding apps use it to drive the real protocol path (handshake, scopes, events) in-process.
 *
 * @module
 */
import type { GatewayServerHandler, SocketHandlers } from "../ws/wire.ts";

/** A frame as the client receives it. */
export type Frame = Record<string, unknown> & { type: string };

/** Options for {@link openMemorySocket}. */
export interface MemorySocketOptions {
  remoteAddress?: string;
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

/** Opens an in-memory socket to `gateway` (which must be started). Upgrade admission rules apply. */
export function openMemorySocket(
  gateway: { readonly handler: GatewayServerHandler },
  options: MemorySocketOptions = {},
): MemorySocket {
  const remoteAddress = options.remoteAddress ?? "127.0.0.1";
  const headers = new Headers(options.headers);
  const request = new Request("http://memory.invalid/", {
    headers: { ...Object.fromEntries(headers), upgrade: "websocket" },
  });
  const refused = gateway.handler.admitUpgrade(request, { remoteAddress });
  if (refused) throw new Error(`upgrade refused with HTTP ${refused.status}`);

  const inbox: Frame[] = [];
  const waiters: ((frame: Frame) => void)[] = [];
  const skipped: Frame[] = [];
  let buffered = 0;
  let open = true;
  let resolveClosed!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r));

  const handlers: SocketHandlers = gateway.handler.acceptSocket({
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
