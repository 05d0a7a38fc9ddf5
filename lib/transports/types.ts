/**
 * What a network transport provides: listen on a host/port and drive a {@link GatewayServerHandler}.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { GatewayServerHandler } from "../ws/wire.ts";

/** Where to listen. Port 0 picks a free port. */
export interface ListenOptions {
  /** The address to bind. */
  hostname: string;
  /** The port to bind; 0 picks a free one. */
  port: number;
  /**
   * How long a connection may take to deliver a request's headers, counted from accept and again from
   * the start of its previous request (so it also ends idle keep-alive connections). Default 10 s.
   */
  headerTimeoutMs?: number;
  /** Where the transport reports trouble with the listener itself (e.g. `accept()` failing). */
  logger?: Logger;
  /** Serve HTTPS/WSS with these PEM files (`gateway.tls`). */
  tls?: TlsFiles;
}

/** Where the listener's certificate and key are (PEM). */
export interface TlsFiles {
  /** The certificate chain (PEM). */
  certPath: string;
  /** The private key (PEM). */
  keyPath: string;
}

/**
 * Reads the PEM pair with the transport's own file API. A missing or unreadable file refuses the start
 * with a config error (the runner exits 78) rather than a gateway that silently serves plain HTTP.
 */
export function readTlsFiles(tls: TlsFiles, read: (path: string) => string): { cert: string; key: string } {
  const load = (key: "certPath" | "keyPath") => {
    try {
      return read(tls[key]);
    } catch (error) {
      throw new GatewayError(
        "CONFIG_INVALID",
        `gateway.tls is enabled but gateway.tls.${key} (${tls[key]}) cannot be read: ${
          error instanceof Error ? error.message : String(error)
        }; fix the path or set gateway.tls.enabled to false`,
      );
    }
  };
  return { cert: load("certPath"), key: load("keyPath") };
}

/** A running listener. */
export interface ListeningServer {
  /** The address it is bound to. */
  hostname: string;
  /** The port it is bound to (the one picked when 0 was asked for). */
  port: number;
  /** Stops accepting and closes the listener (sockets are closed by the gateway before this). */
  close(): Promise<void>;
}

/** A way to put the gateway on the network. */
export interface Transport {
  /** Its name in logs (`deno`, `node`, `memory`). */
  readonly name: string;
  /**
   * Whether `Response.clone()` of a buffered response costs less on this runtime than building a new
   * one (true on Deno; undici tees a stream). The gateway then serves repeating answers as clones.
   */
  readonly cloneIsCheap?: boolean;
  /** Starts serving `handler`; rejects with `PORT_IN_USE` or `BIND_FAILED` when it cannot bind. */
  listen(handler: GatewayServerHandler, options: ListenOptions): Promise<ListeningServer>;
  /**
   * This host's own interface addresses, so trusted-proxy auth can refuse requests that claim to come
   * from the proxy but come from the gateway's own machine. Throws when they cannot be listed.
   */
  interfaceAddresses?(): string[];
  /** CPU time this process has used so far (user + system), in µs; `health.eventLoop` needs it. */
  cpuUsageMicros?(): number;
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

/**
 * A warning logged at most once per `intervalMs` (a second by default) however often it happens: an
 * `accept()` that fails with EMFILE fails for every queued connection, and a flood of upgrades is refused
 * thousands of times a second; one line per event would flood the log. Each line says how many it stands for.
 */
export function throttledWarning(
  logger: Logger | undefined,
  message: string,
  intervalMs = 1_000,
  clock: () => number = Date.now,
): (fields: Record<string, unknown>) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (fields) => {
    const now = clock();
    if (now - last < intervalMs) {
      suppressed++;
      return;
    }
    last = now;
    const record = suppressed ? { ...fields, suppressed } : fields;
    suppressed = 0;
    if (logger) logger.warn(message, record);
    else console.warn(message, record);
  };
}
