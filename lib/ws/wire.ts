/**
 * The seam between a transport's socket and the gateway's connection logic.
 *
 * @module
 */
import type { PreparedEventFrame } from "../protocol/frames.ts";

/** The few things the gateway needs from an open socket. */
export interface SocketWire {
  /** Sends one text frame. */
  send(text: string): void;
  /** Closes the socket with this code and reason. */
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written; drives slow-consumer handling. */
  bufferedAmount(): number;
  /**
   * Sends `frame` with `seq`, as `send(frame(seq))` would; a transport that has it builds the bytes from
   * the frame's shared parts instead of a string per socket (a broadcast calls it for every socket).
   */
  sendPrepared?(frame: PreparedEventFrame, seq: number): void;
}

/** Facts about the upgrade request the socket came from. */
export interface SocketInfo {
  /** The peer address as the transport saw it (before any trusted-proxy rewriting). */
  remoteAddress: string;
  /** The upgrade request's headers. */
  headers: Headers;
  /** The upgrade request's URL. */
  url: string;
}

/** What a transport calls as the socket produces input. */
export interface SocketHandlers {
  /** One complete message from the client. */
  message(data: string | Uint8Array): void;
  /**
   * The largest message the socket may take now (64 KiB before `hello-ok`, `maxPayload` after).
   * Transports that read frames themselves refuse a bigger one from its header, before buffering it.
   */
  messageLimit(): number;
  /** The socket closed (from either side); the code and reason when the transport knows them. */
  closed(code?: number, reason?: string): void;
}

/** What transports drive: HTTP requests, upgrade admission and accepted sockets. */
export interface GatewayServerHandler {
  /** Answers one HTTP request that is not a WebSocket upgrade. */
  fetch(request: Request, info: { remoteAddress: string }): Response | Promise<Response>;
  /** `null` when the upgrade may proceed, otherwise the response to send instead. */
  admitUpgrade(request: Request, info: { remoteAddress: string }): Response | null;
  /** Takes an upgraded socket; the transport calls the returned handlers as the socket produces input. */
  acceptSocket(wire: SocketWire, info: SocketInfo): SocketHandlers;
}
