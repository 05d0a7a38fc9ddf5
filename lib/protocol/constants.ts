/**
 * Numbers fixed by protocol v4 and the reference gateway's defaults.
 *
 * @module
 */

/** The protocol version this gateway speaks. */
export const PROTOCOL_VERSION = 4;
/** Oldest version operator clients may run. */
export const MIN_CLIENT_PROTOCOL = 4;
/** Oldest version nodes (`role:"node"` + `client.mode:"node"`) and probes may run. */
export const MIN_NODE_PROTOCOL = 3;

/** Inbound frame cap before `hello-ok`. */
export const MAX_PREAUTH_PAYLOAD_BYTES = 64 * 1024;
/** Inbound frame cap after `hello-ok` (`policy.maxPayload`). */
export const MAX_PAYLOAD_BYTES = 25 * 1024 * 1024;
/** Outbound backlog past which a socket counts as a slow consumer (`policy.maxBufferedBytes`). */
export const MAX_BUFFERED_BYTES = 50 * 1024 * 1024;
/** `policy.tickIntervalMs`. */
export const TICK_INTERVAL_MS = 30_000;
/** Time a socket has to finish `connect` after opening. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;
/** Time a TCP connection has to deliver complete request headers (also the keep-alive idle limit). */
export const HEADER_TIMEOUT_MS = 10_000;
/** Sockets that may sit between upgrade and `hello-ok` at once before upgrades get 503. */
export const MAX_UNAUTHENTICATED_SOCKETS = 1_000;
/** Default gateway port. */
export const DEFAULT_PORT = 18789;

/** Close codes the gateway puts on the wire. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  policyViolation: 1008,
  tooLarge: 1009,
  serviceRestart: 1012,
  tryAgainLater: 1013,
} as const;
