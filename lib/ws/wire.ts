/**
 * The seam between a transport's socket and the gateway's connection logic.
 *
 * @module
 */

/** The few things the gateway needs from an open socket. */
export interface SocketWire {
  send(text: string): void;
  close(code: number, reason: string): void;
  /** Bytes queued but not yet written; drives slow-consumer handling. */
  bufferedAmount(): number;
}

/** Facts about the upgrade request the socket came from. */
export interface SocketInfo {
  remoteAddress: string;
  headers: Headers;
  url: string;
}

/** What a transport calls as the socket produces input. */
export interface SocketHandlers {
  message(data: string | Uint8Array): void;
  /**
   * The largest message the socket may take now (64 KiB before `hello-ok`, `maxPayload` after).
   * Transports that read frames themselves refuse a bigger one from its header, before buffering it.
   */
  messageLimit(): number;
  closed(code?: number, reason?: string): void;
}

/** What transports drive: HTTP requests, upgrade admission and accepted sockets. */
export interface GatewayServerHandler {
  fetch(request: Request, info: { remoteAddress: string }): Response | Promise<Response>;
  /** `null` when the upgrade may proceed, otherwise the response to send instead. */
  admitUpgrade(request: Request, info: { remoteAddress: string }): Response | null;
  acceptSocket(wire: SocketWire, info: SocketInfo): SocketHandlers;
}
