/**
 * The Node transport: `node:http` plus the `ws` package. The same code runs under Node 20+ and under
 * Deno's Node compatibility layer.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { networkInterfaces } from "node:os";
import process from "node:process";
import { createServer as createTlsServer } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { GatewayServerHandler, SocketHandlers, SocketInfo, SocketWire } from "../ws/wire.ts";
import type { PreparedEventFrame } from "../protocol/frames.ts";
import { sendPreparedFrame } from "./node/prepared-frames.ts";
import {
  addressInUse,
  bindFailed,
  FETCH_FORBIDDEN_METHODS,
  type ListeningServer,
  type ListenOptions,
  readTlsFiles,
  throttledWarning,
  type Transport,
} from "./types.ts";
import { HEADER_TIMEOUT_MS, MAX_PREAUTH_PAYLOAD_BYTES } from "../protocol/constants.ts";

/** How long a connection whose body was refused unread may keep sending after the answer. */
const UNREAD_BODY_LINGER_MS = 2_000;

/** How long a socket failed for a bad frame keeps its close frame readable before it is dropped. */
const FAILED_CLOSE_GRACE_MS = 1_000;

/** `req` as a fetch `Request`; `signal` aborts it (an upgrade's needs none). */
function toRequest(req: IncomingMessage, signal?: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? "GET";
  // fetch refuses to build a CONNECT, TRACE or TRACK request. No route takes them, so such a request is
  // built body-less as GET and then reports its real method, which the router answers with 405.
  const forbidden = FETCH_FORBIDDEN_METHODS.has(method);
  const hasBody = method !== "GET" && method !== "HEAD" && !forbidden;
  const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
    method: forbidden ? "GET" : method,
    headers,
    signal,
    body: hasBody ? webBody(req) : undefined,
    // @ts-ignore: `duplex` is required by Node for streaming bodies but missing from the DOM types.
    duplex: hasBody ? "half" : undefined,
  });
  if (forbidden) Object.defineProperty(request, "method", { value: method });
  return request;
}

/**
 * The request body as a web stream. Not `Readable.toWeb`: under Deno its stream keeps enqueueing chunks
 * already in flight after a cancel (a route refusing an oversize body), which throws outside any handler
 * and ends the process.
 */
function webBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  let open = true;
  const finish = (end: () => void) => {
    if (!open) return;
    open = false;
    end();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Uint8Array) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on("end", () => finish(() => controller.close()));
      req.on("error", (error) => finish(() => controller.error(error)));
    },
    pull() {
      req.resume();
    },
    cancel() {
      // Destroying here would lose the answer (413, 401) not yet written; the server closes afterwards.
      finish(() => req.pause());
    },
  });
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    const existing = headers[name];
    headers[name] = existing === undefined ? value : ([] as string[]).concat(existing, value);
  });
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  // A client that hangs up mid-stream cancels the body, which aborts whatever produces it upstream.
  res.once("close", () => !res.writableFinished && reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Respect backpressure so a slow reader cannot make us buffer a whole stream.
      if (!res.write(value)) await new Promise((r) => res.once("drain", r));
    }
    res.end();
  } catch {
    res.destroy();
  }
}

function rejectUpgrade(socket: Duplex, response: Response): void {
  response.text().then((body) => {
    const lines = [`HTTP/1.1 ${response.status} ${response.statusText || "Service Unavailable"}`];
    response.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
    lines.push(`content-length: ${new TextEncoder().encode(body).byteLength}`, "connection: close", "", body);
    socket.end(lines.join("\r\n"));
  });
}

/** A connection's header deadline: what is left of `timeoutMs` since accept or its last request. */
interface HeaderDeadline {
  requestStarted(): void;
  requestEnded(): void;
  /** The connection became a WebSocket: the gateway's handshake timeout takes over. */
  upgraded(): void;
}

/**
 * Closes a connection that has not delivered a request's headers within `timeoutMs` of being accepted
 * or of its last request ending (idle keep-alive). A request in progress is never cut.
 */
function headerDeadline(socket: Socket, timeoutMs: number): HeaderDeadline {
  let inflight = 0;
  let since = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = () => {
    const idle = Date.now() - since;
    if (inflight > 0) timer = setTimeout(check, timeoutMs);
    else if (idle >= timeoutMs) socket.destroy();
    else timer = setTimeout(check, timeoutMs - idle);
  };
  timer = setTimeout(check, timeoutMs);
  const stop = () => clearTimeout(timer);
  socket.once("close", stop);
  return {
    requestStarted: () => void inflight++,
    requestEnded() {
      inflight--;
      since = Date.now();
    },
    // Nothing of the deadline stays with a WebSocket for its lifetime (10,000 sockets each keep it).
    upgraded() {
      stop();
      timer = undefined;
      socket.off("close", stop);
    },
  };
}

/**
 * `ws`'s receiver checks each frame's announced length against its `_maxPayload` field (ws 8) before it
 * buffers the frame; setting that field to the connection's current limit stops a pre-auth socket from
 * making the server hold 25 MiB. Undefined if this `ws` keeps it elsewhere (the connection's own check
 * after delivery stays as a backstop).
 */
function frameReceiver(ws: WebSocket): { _maxPayload: number } | undefined {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver;
  return typeof receiver?._maxPayload === "number" ? receiver as { _maxPayload: number } : undefined;
}

/**
 * The peer's address without what Node caches when it is read: `{ address, family, port }` with its own
 * copy of the address, which a WebSocket would keep for its lifetime (the gateway keeps the address once).
 */
function peerAddress(socket: Socket): string {
  const address = socket.remoteAddress ?? "unknown";
  (socket as unknown as { _peername?: unknown })._peername = undefined;
  return address;
}

/** Where a `ws` socket keeps its wire, so its listeners can be shared functions instead of closures. */
const WIRE = Symbol("openclaw.wire");

type WiredSocket = WebSocket & { [WIRE]: NodeSocketWire };

/**
 * A `ws` socket as the gateway's {@link SocketWire}. A class and shared listeners rather than closures
 * per socket: each closure a socket keeps for its lifetime costs memory on every one of 10,000 sockets
 * (more under loaders such as tsx, which give every closure its own `name` property).
 */
class NodeSocketWire implements SocketWire {
  handlers: SocketHandlers | undefined;
  readonly #receiver: { _maxPayload: number } | undefined;

  constructor(readonly ws: WebSocket) {
    this.#receiver = frameReceiver(ws);
  }

  send(text: string): void {
    // The limit only rises at hello-ok, which is sent right after: following it on each send keeps the
    // receiver's field a plain number (a getter there halved throughput).
    if (this.#receiver && this.handlers) this.#receiver._maxPayload = this.handlers.messageLimit();
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  sendPrepared(frame: PreparedEventFrame, seq: number): void {
    if (this.ws.readyState === this.ws.OPEN) sendPreparedFrame(this.ws, frame, seq);
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
}

function onMessage(this: WebSocket, data: unknown, isBinary: boolean): void {
  dropLastMask(this);
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
  (this as WiredSocket)[WIRE].handlers!.message(isBinary ? new Uint8Array(bytes) : bytes.toString("utf8"));
}

/**
 * `ws`'s receiver (8.x) keeps the last frame's 4-byte mask in `_mask`, a view into the chunk that frame was
 * read in: until the client's next frame, the socket keeps that whole chunk (its `connect` frame, for a
 * socket that then only listens; up to a 64 KiB read for a big frame). The mask is spent once its frame is
 * delivered, so it is dropped then. Nothing happens if this `ws` keeps it elsewhere.
 */
function dropLastMask(ws: WebSocket): void {
  const receiver = (ws as unknown as { _receiver?: { _mask?: unknown } | null })._receiver;
  if (receiver?._mask !== undefined) receiver._mask = undefined;
}

/** The close listener of one server's sockets: they leave `open`, then the gateway hears it. */
function closeListener(open: Set<WebSocket>) {
  return function onClose(this: WebSocket, code: number, reason: Buffer): void {
    open.delete(this);
    (this as WiredSocket)[WIRE].handlers!.closed(code, reason.toString());
  };
}

/**
 * A frame `ws` refused (too big, bad UTF-8, bad protocol) or a failed write. `ws` has already queued the
 * close frame and half-closes once it is out; destroying now would reset the connection and a peer still
 * sending could lose that frame to the reset. `ws` also resumes reading to discard what the peer still
 * sends, which under a flood of oversize frames allocates a buffer per read: pausing instead (after `ws`'s
 * own resume, queued on the same tick queue) leaves the rest in the kernel, and the grace bounds how long.
 */
function onError(this: WebSocket): void {
  process.nextTick(() => this.pause());
  const drop = setTimeout(() => this.terminate(), FAILED_CLOSE_GRACE_MS);
  this.once("close", () => clearTimeout(drop));
}

/**
 * Hands an upgraded socket to the gateway; `onClose` (one per server, see {@link closeListener}) takes it
 * out of `open` again.
 */
function acceptWebSocket(
  handler: GatewayServerHandler,
  ws: WebSocket,
  info: SocketInfo,
  open: Set<WebSocket>,
  onClose: ReturnType<typeof closeListener>,
): void {
  const wire = new NodeSocketWire(ws);
  (ws as WiredSocket)[WIRE] = wire;
  open.add(ws);
  wire.handlers = handler.acceptSocket(wire, info);
  ws.on("message", onMessage);
  ws.on("close", onClose);
  ws.on("error", onError);
}

/**
 * Creates the Node transport: `node:http` (`node:https` when `gateway.tls` is set) and `ws` on one port.
 *
 * @example Serve on a free loopback port and open a socket to it
 * ```ts
 * import { createGateway } from "@openclaw-ts/gateway";
 * import { nodeTransport } from "@openclaw-ts/gateway/node";
 *
 * const gateway = createGateway({
 *   transport: nodeTransport(),
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   config: { gateway: { auth: { token: "s3cret" } } },
 * });
 * const address = await gateway.start();
 * const socket = new WebSocket(`ws://127.0.0.1:${address!.port}`);
 * const first = await new Promise<string>((resolve) => socket.onmessage = (event) => resolve(event.data));
 * if (JSON.parse(first).event !== "connect.challenge") throw new Error(first);
 * const closed = new Promise((resolve) => socket.onclose = resolve);
 * socket.close();
 * await closed;
 * await gateway.stop();
 * ```
 */
export function nodeTransport(): Transport {
  return {
    name: "node",
    interfaceAddresses: () =>
      Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)),
    cpuUsageMicros: () => {
      const { user, system } = process.cpuUsage();
      return user + system;
    },
    listen(handler: GatewayServerHandler, options: ListenOptions): Promise<ListeningServer> {
      // Until a socket's handlers exist (and with them its live limit), frames get the pre-auth cap.
      // The open sockets are kept here rather than by `ws`'s client tracking, which gives every socket a
      // close listener closure of its own (and its `close` listeners an array) for its lifetime.
      const wss = new WebSocketServer({
        noServer: true,
        maxPayload: MAX_PREAUTH_PAYLOAD_BYTES,
        clientTracking: false,
      });
      const open = new Set<WebSocket>();
      const onClose = closeListener(open);
      const headerTimeoutMs = options.headerTimeoutMs ?? HEADER_TIMEOUT_MS;
      const deadlines = new WeakMap<Socket, HeaderDeadline>();
      let pem: { cert: string; key: string } | undefined;
      try {
        pem = options.tls && readTlsFiles(options.tls, (path) => readFileSync(path, "utf8"));
      } catch (error) {
        return Promise.reject(error);
      }
      const serveRequest = (req: IncomingMessage, res: ServerResponse) => {
        const deadline = deadlines.get(req.socket);
        deadline?.requestStarted();
        const abort = new AbortController();
        res.on("close", () => {
          deadline?.requestEnded();
          if (!res.writableFinished) abort.abort();
        });
        res.on("finish", () => {
          if (req.complete) return;
          // The route answered without reading the whole body: stop taking it. A half close lets the
          // client read the answer; a client that keeps sending is cut off shortly after.
          req.socket.end();
          const linger = setTimeout(() => req.socket.destroy(), UNREAD_BODY_LINGER_MS);
          req.socket.once("close", () => clearTimeout(linger));
        });
        const remoteAddress = req.socket.remoteAddress ?? "unknown";
        Promise.resolve()
          .then(() => handler.fetch(toRequest(req, abort.signal), { remoteAddress }))
          .then((response) => writeResponse(response, res))
          .catch(() => {
            if (!res.headersSent) res.writeHead(500).end("Internal Server Error");
            else res.destroy();
          });
      };
      // Over TLS, a slow handshake is bounded by the TLS server's own timeout (set to the header
      // deadline); the header deadline then starts on the decrypted socket requests arrive on.
      const server = pem
        ? createTlsServer({ ...pem, handshakeTimeout: headerTimeoutMs }, serveRequest)
        : createServer(serveRequest);
      server.on(
        pem ? "secureConnection" : "connection",
        (socket: Socket) => deadlines.set(socket, headerDeadline(socket, headerTimeoutMs)),
      );
      server.on("upgrade", (req, socket, head) => {
        deadlines.get(req.socket)?.upgraded();
        deadlines.delete(req.socket);
        const remoteAddress = peerAddress(req.socket);
        // No signal: a Request given one links it to its own through a listener, a WeakRef and a
        // finalizer, which keep both alive until a full GC (old-space garbage on every upgrade).
        const request = toRequest(req);
        const refused = handler.admitUpgrade(request, { remoteAddress });
        if (refused) return rejectUpgrade(socket, refused);
        // The gateway keeps these only until the socket's hello-ok.
        const info = { remoteAddress, headers: request.headers, url: request.url };
        wss.handleUpgrade(req, socket, head, (ws) => acceptWebSocket(handler, ws, info, open, onClose));
      });
      return new Promise((resolve, reject) => {
        server.once("error", (error: NodeJS.ErrnoException) => {
          reject(error.code === "EADDRINUSE" ? addressInUse(options) : bindFailed(options, error));
        });
        server.listen(options.port, options.hostname, () => {
          // From here on an error is `accept()` failing (EMFILE under a connection flood): the listener
          // keeps going, so log it (at most once a second) instead of letting it end the process.
          const acceptFailed = throttledWarning(options.logger, "accepting a connection failed");
          server.removeAllListeners("error");
          server.on(
            "error",
            (error: NodeJS.ErrnoException) => acceptFailed({ error: String(error), code: error.code }),
          );
          const address = server.address();
          const port = typeof address === "object" && address ? address.port : options.port;
          resolve({
            hostname: options.hostname,
            port,
            close: () =>
              new Promise<void>((done) => {
                for (const ws of open) ws.terminate();
                wss.close();
                server.closeAllConnections?.();
                server.close(() => done());
              }),
          });
        });
      });
    },
  };
}
