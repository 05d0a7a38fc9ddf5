/**
 * The hardened Deno engine: HTTP/1.1 and WebSocket over raw `Deno.listen`/`Deno.listenTls` connections,
 * so the engine (not the runtime) bounds the header phase, request bodies are read as they are pulled,
 * and WebSocket frames are sized from their headers. One connection is served at a time in order
 * (keep-alive and sequential pipelining); an upgraded connection is handed to an `EngineWebSocket`.
 *
 * @module
 */
import type { GatewayServerHandler } from "../../ws/wire.ts";
import type { Logger } from "../../log/logger.ts";
import { HEADER_TIMEOUT_MS } from "../../protocol/constants.ts";
import type { ListeningServer, ListenOptions } from "../types.ts";
import { acceptLoop } from "./accept-loop.ts";
import { RequestBody } from "./http1-body.ts";
import { MAX_HEAD_BYTES, readHead, type RequestHead } from "./http1-parser.ts";
import { closingAnswer, writeResponse } from "./http1-response.ts";
import { ReadBuffer, writeAll } from "./read-buffer.ts";
import { acceptUpgrade } from "./websocket-upgrade.ts";
import type { EngineWebSocket } from "./websocket-socket.ts";
import { buildRequest, PeerPresence } from "./request.ts";
import { type Connection, timeWrites } from "./connection.ts";

/** A body the handler left unread is discarded up to this size to keep the connection; past it, closed. */
const DRAIN_LIMIT_BYTES = 64 * 1024;
/** How long a refused connection may keep sending after its answer, so the answer is not lost to a reset. */
const LINGER_MS = 1_000;
const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

/** Timeouts of the hardened engine. */
export interface EngineTimeouts {
  /** How long `close()` waits for in-flight HTTP requests in each of its two stages. */
  drainTimeoutMs: number;
  /** How long a WebSocket close handshake may take before the connection is dropped. */
  closeGraceMs: number;
  /** How long one write may wait for a peer that does not read before the connection is dropped (30 s). */
  writeTimeoutMs?: number;
}

/** A write waiting this long for the peer to read means it stopped reading: the connection is dropped. */
const WRITE_TIMEOUT_MS = 30_000;

/** Listens with the hardened engine; over TLS the handshake has the header deadline too. */
export async function listenHardened(
  handler: GatewayServerHandler,
  options: ListenOptions,
  pem: { cert: string; key: string } | undefined,
  timeouts: EngineTimeouts,
): Promise<ListeningServer> {
  const { hostname, port } = options;
  // Loaded only for TLS: it brings Deno's node compatibility layer (node:tls), which plain HTTP never pays.
  const listener = pem
    ? await (await import("./tls-listener.ts")).listenTlsDroppable({
      hostname,
      port,
      ...pem,
      handshakeTimeoutMs: options.headerTimeoutMs ?? HEADER_TIMEOUT_MS,
    })
    : Deno.listen({ hostname, port });
  const engine = new Engine(handler, options, listener, pem !== undefined, timeouts);
  const addr = listener.addr as Deno.NetAddr;
  return { hostname: addr.hostname, port: addr.port, close: () => engine.close() };
}

class Engine {
  readonly #connections = new Set<Connection>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #accepting: Promise<void>;
  readonly #headerTimeoutMs: number;
  readonly #writeTimeoutMs: number;
  readonly #origin: string;
  readonly #logger: Logger | undefined;
  #stopping = false;

  constructor(
    readonly handler: GatewayServerHandler,
    options: ListenOptions,
    readonly listener: Deno.Listener,
    readonly tls: boolean,
    readonly timeouts: EngineTimeouts,
  ) {
    this.#headerTimeoutMs = options.headerTimeoutMs ?? HEADER_TIMEOUT_MS;
    this.#writeTimeoutMs = timeouts.writeTimeoutMs ?? WRITE_TIMEOUT_MS;
    this.#logger = options.logger;
    const addr = listener.addr as Deno.NetAddr;
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    this.#origin = `${tls ? "https" : "http"}://${host}:${addr.port}`;
    // One sweep for every connection's deadlines: a timer per request would cost more than the check.
    const sweepMs = Math.min(1_000, Math.max(25, Math.min(this.#headerTimeoutMs, this.#writeTimeoutMs) / 4));
    this.#sweeper = setInterval(() => this.#sweep(), sweepMs);
    this.#accepting = acceptLoop(listener, (conn) => this.#track(conn), () => this.#stopping, this.#logger);
  }

  #sweep(): void {
    const now = Date.now();
    for (const connection of this.#connections) {
      const { deadline, writingSince } = connection;
      if ((deadline && now >= deadline) || (writingSince && now - writingSince >= this.#writeTimeoutMs)) {
        closeQuietly(connection.conn);
      }
    }
  }

  #track(conn: Deno.Conn): void {
    // As Deno.serve does: a small write (an SSE event, a frame) must not wait for the previous one's ACK.
    if ("setNoDelay" in conn) {
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
      } catch { /* the peer is already gone */ }
    }
    const connection: Connection = {
      conn,
      input: undefined as unknown as ReadBuffer,
      deadline: Date.now() + this.#headerTimeoutMs,
      writingSince: 0,
      untimedWrite: undefined as unknown as Connection["untimedWrite"],
      peer: undefined,
      body: undefined,
      socket: undefined,
      info: { remoteAddress: (conn.remoteAddr as Deno.NetAddr).hostname ?? "unknown" },
      done: Promise.resolve(),
    };
    connection.input = new ReadBuffer(conn, () => connection.peer?.gone());
    timeWrites(connection);
    this.#connections.add(connection);
    connection.done = this.#serve(connection).catch((error) => {
      this.#logger?.debug("connection failed", { error: String(error) });
    });
  }

  async #serve(connection: Connection): Promise<void> {
    const conn = connection.conn;
    try {
      // The socket runs here, not in the frame that read its upgrade request: a suspended async frame
      // keeps all its locals, and 10,000 sockets would each keep their request and its head.
      const socket = await this.#serveRequests(connection);
      await socket?.run();
    } finally {
      this.#connections.delete(connection);
      if (!connection.socket) closeQuietly(conn);
    }
  }

  /** Serves requests on `connection` until it ends, or until one upgrades it: then its socket. */
  async #serveRequests(connection: Connection): Promise<EngineWebSocket | undefined> {
    while (!this.#stopping) {
      connection.deadline = Date.now() + this.#headerTimeoutMs;
      const head = await readHead(connection.input);
      connection.deadline = 0;
      if (!head) return undefined;
      if ("status" in head) {
        await this.#refuse(connection, closingAnswer(head.status, head.reason));
        return undefined;
      }
      if (head.upgrade) {
        return await acceptUpgrade(this.handler, connection, head, this.#origin, this.timeouts.closeGraceMs);
      }
      if (!await this.#request(connection, head)) return undefined;
    }
    return undefined;
  }

  /** Serves one request; true when the connection may take another. */
  async #request(connection: Connection, head: RequestHead): Promise<boolean> {
    const { conn, input } = connection;
    let continued = !head.expectContinue;
    const sendContinue = continued ? undefined : async () => {
      continued = true;
      await writeAll(conn, CONTINUE);
    };
    const body = head.bodyLength === 0 ? undefined : new RequestBody(input, head.bodyLength, sendContinue);
    const peer = new PeerPresence();
    const request = buildRequest(head, this.#origin, body, peer);
    if (!request) return await this.#refuse(connection, closingAnswer(400, "invalid request target")), false;
    connection.peer = peer;
    connection.body = body;
    const watching = !body || body.done;
    if (watching) void this.#watchForHangup(connection, peer);
    let response: Response;
    try {
      response = await this.handler.fetch(request, connection.info);
      if (!(response instanceof Response)) throw new TypeError("handler did not return a Response");
    } catch (error) {
      this.#logger?.error("http handler failed", { error: String(error) });
      response = new Response("Internal Server Error", { status: 500 });
    }
    const unread = body !== undefined && !body.done;
    // A body read to its end frees the connection for watching while the answer streams.
    if (!watching && !unread) void this.#watchForHangup(connection, peer);
    // A rest within the limit is drained even under a closing answer, so the peer's upload is not reset
    // under it; a chunked rest may not end within the limit, so its answer cannot promise keep-alive.
    const drain = unread && continued && body.drainable(DRAIN_LIMIT_BYTES);
    const close = !head.keepAlive || this.#stopping || (unread && (!drain || body.chunked)) ||
      response.headers.get("connection")?.toLowerCase() === "close";
    const written = await writeResponse(conn, response, {
      headOnly: head.method === "HEAD",
      close,
      keepAlive: head.http10,
      unchunked: head.http10,
      onHangup: (cancel) => peer.whenGone(cancel),
    });
    connection.peer = undefined;
    connection.body = undefined;
    if (!written) return false;
    if (!drain) return !close;
    connection.deadline = Date.now() + this.#headerTimeoutMs;
    return await body.drain(DRAIN_LIMIT_BYTES) && !close;
  }

  /**
   * Notices a peer hanging up while its request is handled (`request.signal` then aborts), reading ahead
   * at most a head's worth of pipelined bytes.
   */
  async #watchForHangup(connection: Connection, peer: PeerPresence): Promise<void> {
    const input = connection.input;
    while (connection.peer === peer && input.available <= MAX_HEAD_BYTES) {
      if (!await input.fill(MAX_HEAD_BYTES + 1024)) return;
    }
  }

  /** Sends a closing answer, then lets the peer finish sending for a moment so the answer is not reset away. */
  async #refuse(connection: Connection, answer: Uint8Array): Promise<void> {
    const { conn, input } = connection;
    try {
      await writeAll(conn, answer);
      await conn.closeWrite();
    } catch {
      return;
    }
    connection.deadline = Date.now() + LINGER_MS;
    while (await input.fill()) input.skip(input.available);
  }

  /** Stops accepting, ends idle connections and sockets, and drains requests in flight. */
  async close(): Promise<void> {
    this.#stopping = true;
    closeQuietly(this.listener);
    await this.#accepting;
    const sockets = () => [...this.#connections].filter((c) => c.socket);
    // Sockets the gateway already closed (1012) finish their handshake; the rest are told 1001.
    await this.#settled(sockets(), this.timeouts.closeGraceMs);
    for (const connection of sockets()) connection.socket!.goAway();
    for (const connection of this.#connections) {
      if (connection.deadline && !connection.body) closeQuietly(connection.conn);
    }
    if (!await this.#settled([...this.#connections], this.timeouts.drainTimeoutMs)) {
      const interrupted = new Error("gateway stopping: request body interrupted");
      for (const connection of this.#connections) connection.body?.fail(interrupted);
      if (!await this.#settled([...this.#connections], this.timeouts.drainTimeoutMs)) {
        for (const connection of this.#connections) closeQuietly(connection.conn);
      }
    }
    clearInterval(this.#sweeper);
  }

  /** Waits until `connections` have all ended, at most `ms`; true if they did. */
  async #settled(connections: Connection[], ms: number): Promise<boolean> {
    if (!connections.length) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      Promise.all(connections.map((c) => c.done)).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
    clearTimeout(timer);
    return done;
  }
}

/** Closes a connection or listener that may already be closed. */
export function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch { /* already closed */ }
}
