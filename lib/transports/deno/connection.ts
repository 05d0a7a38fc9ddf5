/**
 * What the hardened engine keeps about one accepted connection, shared by the HTTP loop and the
 * WebSocket upgrade that may take the connection over.
 *
 * @module
 */
import type { RequestBody } from "./http1-body.ts";
import type { ReadBuffer } from "./read-buffer.ts";
import type { PeerPresence } from "./request.ts";
import type { EngineWebSocket } from "./websocket-socket.ts";

/** What the engine knows about one connection. */
export interface Connection {
  /** The accepted connection. */
  conn: Deno.Conn;
  /** Its unconsumed input. */
  input: ReadBuffer;
  /** When the header phase must end (ms since epoch); 0 while no header is awaited. */
  deadline: number;
  /** Since when the write in progress has waited for the peer (ms since epoch); 0 while none waits. */
  writingSince: number;
  /**
   * `conn`'s own write, which does not touch `writingSince`: the WebSocket times its writes itself, as
   * a wrapper's promise per frame costs a broadcast to thousands of sockets more than the write does.
   */
  untimedWrite: (bytes: Uint8Array) => Promise<number>;
  /** The peer of the request being served (told when it hangs up). */
  peer: PeerPresence | undefined;
  /** The request's body while it is served. */
  body: RequestBody | undefined;
  /** Set once the connection is a WebSocket (which then owns closing it). */
  socket: EngineWebSocket | undefined;
  /** What the handler is told about the peer. */
  info: { remoteAddress: string };
  /** Settles when the connection has been served to its end. */
  done: Promise<void>;
}

/**
 * Times `connection.conn`'s writes in `writingSince`, so a peer that stops reading can be dropped when a
 * write makes no progress: every write the engine makes (answers, frames, interim and refusal answers)
 * goes through `conn.write`, and each one that returns is progress.
 */
export function timeWrites(connection: Connection): void {
  const conn = connection.conn;
  const write = conn.write.bind(conn);
  connection.untimedWrite = write;
  conn.write = async (bytes: Uint8Array): Promise<number> => {
    connection.writingSince = Date.now();
    try {
      return await write(bytes);
    } finally {
      connection.writingSince = 0;
    }
  };
}
