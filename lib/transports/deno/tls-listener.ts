/**
 * The hardened engine's TLS listener, on `node:tls`: Deno 2.9's own TLS connections cannot be dropped
 * before their handshake completes (`close()` waits for it), so a peer that stalls mid-handshake would
 * hold a descriptor for as long as it likes. Here the handshake has a deadline and a stalled one is
 * destroyed. Accepted connections are adapted to the `Deno.Conn` surface the engine uses.
 *
 * @module
 */
import { createServer, type TLSSocket } from "node:tls";

/** Buffered input past which the socket is paused until the engine reads. */
const PAUSE_BYTES = 64 * 1024;

/** Options of {@link listenTlsDroppable}. */
export interface TlsListenOptions {
  /** Address to bind. */
  hostname: string;
  /** Port to bind (0 for any). */
  port: number;
  /** PEM certificate chain. */
  cert: string;
  /** PEM private key. */
  key: string;
  /** A handshake not complete within this is dropped. */
  handshakeTimeoutMs: number;
}

/** Listens for TLS connections whose handshake is bounded by `handshakeTimeoutMs`. */
export function listenTlsDroppable(options: TlsListenOptions): Promise<Deno.Listener> {
  const accepted: Deno.Conn[] = [];
  const waiting: PromiseWithResolvers<Deno.Conn>[] = [];
  let closed = false;
  const server = createServer({
    cert: options.cert,
    key: options.key,
    handshakeTimeout: options.handshakeTimeoutMs,
    ALPNProtocols: ["http/1.1"],
  }, (socket) => {
    // Only the surface the engine uses is there (see NodeTlsConn).
    const conn = new NodeTlsConn(socket) as unknown as Deno.Conn;
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(conn);
    else accepted.push(conn);
  });
  // A failed or timed-out handshake: the socket is not destroyed unless the listener does it.
  server.on("tlsClientError", (_error, socket) => socket.destroy());
  const { promise, resolve, reject } = Promise.withResolvers<Deno.Listener>();
  server.once("error", (error: NodeJS.ErrnoException) => {
    reject(error.code === "EADDRINUSE" ? new Deno.errors.AddrInUse(error.message) : error);
  });
  server.listen(options.port, options.hostname, () => {
    const address = server.address() as { address: string; port: number };
    const addr: Deno.NetAddr = { transport: "tcp", hostname: address.address, port: address.port };
    resolve({
      addr,
      accept(): Promise<Deno.Conn> {
        if (closed) return Promise.reject(new Deno.errors.BadResource("listener closed"));
        const conn = accepted.shift();
        if (conn) return Promise.resolve(conn);
        const waiter = Promise.withResolvers<Deno.Conn>();
        waiting.push(waiter);
        return waiter.promise;
      },
      close(): void {
        if (closed) throw new Deno.errors.BadResource("listener closed");
        closed = true;
        server.close();
        for (const conn of accepted.splice(0)) conn.close();
        for (const waiter of waiting.splice(0)) waiter.reject(new Deno.errors.BadResource("listener closed"));
      },
    } as unknown as Deno.Listener);
  });
  return promise;
}

/** A `node:tls` socket as the part of `Deno.Conn` the engine uses (read, write, closeWrite, close). */
class NodeTlsConn {
  readonly remoteAddr: Deno.NetAddr;
  readonly #socket: TLSSocket;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #reader: PromiseWithResolvers<void> | undefined;

  constructor(socket: TLSSocket) {
    this.#socket = socket;
    this.remoteAddr = {
      transport: "tcp",
      hostname: socket.remoteAddress ?? "unknown",
      port: socket.remotePort ?? 0,
    };
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered > PAUSE_BYTES) socket.pause();
      this.#wake();
    });
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  async read(out: Uint8Array): Promise<number | null> {
    while (!this.#chunks.length) {
      if (this.#ended) return null;
      this.#reader = Promise.withResolvers();
      await this.#reader.promise;
    }
    const chunk = this.#chunks[0];
    const n = Math.min(out.length, chunk.length);
    out.set(chunk.subarray(0, n));
    if (n === chunk.length) this.#chunks.shift();
    else this.#chunks[0] = chunk.subarray(n);
    this.#buffered -= n;
    if (this.#buffered <= PAUSE_BYTES && this.#socket.isPaused()) this.#socket.resume();
    return n;
  }

  /** Resolves once `bytes` went to the socket (so a peer that does not read stalls it). */
  write(bytes: Uint8Array): Promise<number> {
    if (this.#socket.destroyed) return Promise.reject(new Deno.errors.BadResource("connection closed"));
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (error) => error ? reject(error) : resolve(bytes.length));
    });
  }

  closeWrite(): Promise<void> {
    this.#socket.end();
    return Promise.resolve();
  }

  close(): void {
    if (this.#socket.destroyed) throw new Deno.errors.BadResource("connection closed");
    this.#socket.destroy();
    this.#ended = true;
    this.#wake();
  }

  setNoDelay(on: boolean): void {
    this.#socket.setNoDelay(on);
  }

  #wake(): void {
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.resolve();
  }
}
