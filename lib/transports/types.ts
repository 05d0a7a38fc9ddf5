/**
 * What a network transport provides: listen on a host/port and drive a {@link GatewayServerHandler}.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import type { GatewayServerHandler } from "../ws/wire.ts";

/** Where to listen. Port 0 picks a free port. */
export interface ListenOptions {
  hostname: string;
  port: number;
}

/** A running listener. */
export interface ListeningServer {
  hostname: string;
  port: number;
  /** Stops accepting and closes the listener (sockets are closed by the gateway before this). */
  close(): Promise<void>;
}

/** A way to put the gateway on the network. */
export interface Transport {
  readonly name: string;
  /**
   * Whether `Response.clone()` of a buffered response costs less on this runtime than building a new
   * one (true on Deno; undici tees a stream). The gateway then serves repeating answers as clones.
   */
  readonly cloneIsCheap?: boolean;
  listen(handler: GatewayServerHandler, options: ListenOptions): Promise<ListeningServer>;
  /**
   * This host's own interface addresses, so trusted-proxy auth can refuse requests that claim to come
   * from the proxy but come from the gateway's own machine. Throws when they cannot be listed.
   */
  interfaceAddresses?(): string[];
}

/** The error every transport raises when the port is taken, with the wording operators search for. */
export function addressInUse(options: ListenOptions): GatewayError {
  return new GatewayError(
    "PORT_IN_USE",
    `another gateway instance is already listening on ws://${options.hostname}:${options.port} (EADDRINUSE); stop it or pick another port with --port`,
  );
}

/** Wraps any other bind failure. */
export function bindFailed(options: ListenOptions, cause: unknown): GatewayError {
  return new GatewayError(
    "BIND_FAILED",
    `failed to bind gateway socket on ws://${options.hostname}:${options.port}: ${
      cause instanceof Error ? cause.message : String(cause)
    }`,
  );
}

/** Whether a request asks for a WebSocket upgrade. */
export function isUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** Methods a fetch `Request` cannot be built with; transports must still answer them (405, not a crash). */
export const FETCH_FORBIDDEN_METHODS: ReadonlySet<string> = new Set(["CONNECT", "TRACE", "TRACK"]);
