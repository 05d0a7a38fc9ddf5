/**
 * The Node transport: `node:http` plus the `ws` package. The same code runs under Node 20+ and under
 * Deno's Node compatibility layer.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { networkInterfaces } from "node:os";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import type { GatewayServerHandler } from "../ws/wire.ts";
import {
  addressInUse,
  bindFailed,
  FETCH_FORBIDDEN_METHODS,
  type ListeningServer,
  type ListenOptions,
  type Transport,
} from "./types.ts";
import { MAX_PAYLOAD_BYTES } from "../protocol/constants.ts";

/** How long a connection whose body was refused unread may keep sending after the answer. */
const UNREAD_BODY_LINGER_MS = 2_000;

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
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

/** Creates the Node transport. */
export function nodeTransport(): Transport {
  return {
    name: "node",
    interfaceAddresses: () =>
      Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)),
    listen(handler: GatewayServerHandler, options: ListenOptions): Promise<ListeningServer> {
      const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES + 1 });
      const server = createServer((req, res) => {
        const abort = new AbortController();
        res.on("close", () => !res.writableFinished && abort.abort());
        res.on("finish", () => {
          if (req.complete) return;
          // The route answered without reading the whole body: stop taking it. A half close lets the
          // client read the answer; a client that keeps sending is cut off shortly after.
          req.socket.end();
          setTimeout(() => req.socket.destroy(), UNREAD_BODY_LINGER_MS);
        });
        const remoteAddress = req.socket.remoteAddress ?? "unknown";
        Promise.resolve()
          .then(() => handler.fetch(toRequest(req, abort.signal), { remoteAddress }))
          .then((response) => writeResponse(response, res))
          .catch(() => {
            if (!res.headersSent) res.writeHead(500).end("Internal Server Error");
            else res.destroy();
          });
      });
      server.on("upgrade", (req, socket, head) => {
        const remoteAddress = req.socket.remoteAddress ?? "unknown";
        const request = toRequest(req, new AbortController().signal);
        const refused = handler.admitUpgrade(request, { remoteAddress });
        if (refused) return rejectUpgrade(socket, refused);
        wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
          const handlers = handler.acceptSocket({
            send: (text) => ws.readyState === ws.OPEN && ws.send(text),
            close: (code, reason) => ws.close(code, reason),
            bufferedAmount: () => ws.bufferedAmount,
          }, { remoteAddress, headers: request.headers, url: request.url });
          ws.on("message", (data, isBinary) => {
            const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
            handlers.message(isBinary ? new Uint8Array(bytes) : bytes.toString("utf8"));
          });
          ws.on("close", (code, reason) => handlers.closed(code, reason.toString()));
          ws.on("error", () => ws.terminate());
        });
      });
      return new Promise((resolve, reject) => {
        server.once("error", (error: NodeJS.ErrnoException) => {
          reject(error.code === "EADDRINUSE" ? addressInUse(options) : bindFailed(options, error));
        });
        server.listen(options.port, options.hostname, () => {
          const address = server.address();
          const port = typeof address === "object" && address ? address.port : options.port;
          resolve({
            hostname: options.hostname,
            port,
            close: () =>
              new Promise<void>((done) => {
                for (const ws of wss.clients) ws.terminate();
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
