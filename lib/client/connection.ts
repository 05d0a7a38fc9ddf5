/**
 * A small protocol v4 client: waits for `connect.challenge`, sends `connect`, resolves on `hello-ok`,
 * then correlates requests with responses under per-call timeouts. The WebSocket constructor is
 * injected so the same code runs on Deno's built-in socket, Node's `ws` or a test double.
 *
 * @module
 */
import { type DeviceAuthClaim, deviceAuthPayloadV3 } from "../protocol/device-auth-payload.ts";
import { connectFailure, GatewayClientError, rpcFailure } from "./errors.ts";
import {
  CLIENT_PROTOCOL_VERSION,
  type ClientIdentity,
  type EventFrame,
  type HelloOk,
  isHelloOk,
  parseServerFrame,
  type RequestFrame,
  type ResponseFrame,
} from "./frames.ts";

/** The subset of a WebSocket the client uses (web-standard and `ws` sockets both fit). */
export interface WebSocketLike {
  /** `1` while open, as for a web-standard WebSocket; sends are refused otherwise. */
  readonly readyState: number;
  /** Sends one text frame. */
  send(data: string): void;
  /** Starts the closing handshake with an optional close code and reason. */
  close(code?: number, reason?: string): void;
  /** Listens for the socket's life cycle and its messages (`event.data` holds a message's text). */
  // deno-lint-ignore no-explicit-any
  addEventListener(type: "open" | "message" | "close" | "error", listener: (event: any) => void): void;
}

/** Something that opens a socket to a URL: `WebSocket` on Deno, `ws` on Node, a fake in tests. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * A paired (or to-be-paired) device identity the client proves at connect by signing the server's
 * challenge; the gateway takes a device token only together with this proof.
 */
export interface ClientDevice {
  /** The device id: the SHA-256 fingerprint (hex) of its raw Ed25519 public key. */
  id: string;
  /** The raw Ed25519 public key, base64url. */
  publicKey: string;
  /** Signs `payload` (its UTF-8 bytes) with the device's private key; resolves with the signature, base64url. */
  sign(payload: string): Promise<string>;
}

/** Options for {@link connectGateway}. */
export interface ConnectOptions {
  /** The gateway's WebSocket URL, e.g. `ws://127.0.0.1:18789`. */
  url: string;
  /** Opens the socket: the global `WebSocket` on Deno and browsers, `ws`'s on Node. */
  WebSocket: WebSocketConstructor;
  /** Who the client is, as presence shows it. */
  client: ClientIdentity;
  /** The gateway token (`gateway.auth.token`), when the gateway uses token auth. */
  token?: string;
  /** The gateway password (`gateway.auth.password`), when the gateway uses password auth. */
  password?: string;
  /** The device identity to prove; with it a loopback connect pairs and `hello.auth.deviceToken` is its token. */
  device?: ClientDevice;
  /** The token the gateway issued `device` (`hello.auth.deviceToken`); it stands in for the shared secret. */
  deviceToken?: string;
  /** Connect as an operator (default) or as a node. */
  role?: "operator" | "node";
  /** The operator scopes to ask for; `["operator.read"]` by default. */
  scopes?: string[];
  /** Client capabilities (e.g. `tool-events`) or, for a node, its categories; none by default. */
  caps?: string[];
  /** Budget for opening the socket, the challenge and `hello-ok`. Default 10 000 ms. */
  timeoutMs?: number;
  /** Default per-request timeout once connected, in ms; `timeoutMs` by default. */
  requestTimeoutMs?: number;
  /** Receives every event the gateway pushes after `hello-ok` (not `connect.challenge`). */
  onEvent?: (frame: EventFrame) => void;
}

/** Per-request options. */
export interface RequestOptions {
  /** How long to wait for the response, in ms; the connection's `requestTimeoutMs` by default. */
  timeoutMs?: number;
  /** Skip an early `{status: "accepted"}` ack and resolve on the final response (two-stage methods). */
  expectFinal?: boolean;
}

/** An open, authenticated connection. */
export interface GatewayConnection {
  /** The URL it is connected to. */
  readonly url: string;
  /** The gateway's `hello-ok` payload: granted scopes, methods, events, policy and a state snapshot. */
  readonly hello: HelloOk;
  /**
   * Calls a method and resolves with its payload; a refused or failed call rejects with a
   * {@link GatewayClientError} (kind `rpc`), as do a timeout and a closed connection.
   */
  request<T = unknown>(method: string, params?: unknown, options?: RequestOptions): Promise<T>;
  /** Closes the socket; pending requests fail with kind `closed`. */
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const OPEN = 1;

interface Pending {
  method: string;
  expectFinal: boolean;
  resolve(value: unknown): void;
  reject(error: GatewayClientError): void;
  timer: ReturnType<typeof setTimeout>;
}

function frameText(data: unknown): string | undefined {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    return new TextDecoder().decode(data as ArrayBuffer | Uint8Array);
  }
  return undefined;
}

function describeSocketError(event: unknown): string {
  const e = event as { message?: unknown; error?: { message?: unknown; code?: unknown } } | undefined;
  const message = e?.error?.message ?? e?.message;
  return typeof message === "string" && message ? message : "connection failed";
}

/** One socket's client-side state: the requests awaiting answers and how far the connection got. */
interface Session {
  readonly url: string;
  readonly socket: WebSocketLike;
  readonly pending: Map<string, Pending>;
  nextId: number;
  opened: boolean;
  connected: boolean;
  closed: boolean;
}

/**
 * Connects and authenticates; rejects with a {@link GatewayClientError} a person can act on.
 *
 * @example Connect to a gateway on a free loopback port and call `health`
 * ```ts
 * import { connectGateway, createGateway } from "@openclaw-ts/gateway";
 * import { denoTransport } from "@openclaw-ts/gateway/deno";
 *
 * const gateway = createGateway({
 *   transport: denoTransport(),
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   config: { gateway: { auth: { token: "s3cret" } } },
 * });
 * const address = await gateway.start();
 *
 * const connection = await connectGateway({
 *   url: `ws://127.0.0.1:${address!.port}`,
 *   WebSocket,
 *   client: { id: "cli", mode: "cli", version: "1.0.0", platform: "linux" },
 *   token: "s3cret",
 * });
 * if (!connection.hello.auth.scopes.includes("operator.read")) throw new Error("scope not granted");
 * const health = await connection.request<{ ok: boolean }>("health");
 * if (!health.ok) throw new Error(JSON.stringify(health));
 * connection.close();
 * await gateway.stop();
 * ```
 */
export function connectGateway(options: ConnectOptions): Promise<GatewayConnection> {
  const url = options.url;
  if (options.deviceToken !== undefined && !options.device) {
    return Promise.reject(
      new GatewayClientError(
        "auth",
        "DEVICE_IDENTITY_REQUIRED",
        "a device token needs the device it was issued to (options.device): the gateway takes it only with that device's proof",
      ),
    );
  }
  const budget = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const requestTimeout = options.requestTimeoutMs ?? budget;
  let socket: WebSocketLike;
  try {
    socket = new options.WebSocket(url);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return Promise.reject(
      new GatewayClientError("unreachable", "UNREACHABLE", `cannot open ${url}: ${reason}`),
    );
  }
  const session: Session = {
    url,
    socket,
    pending: new Map(),
    nextId: 0,
    opened: false,
    connected: false,
    closed: false,
  };

  return new Promise<GatewayConnection>((resolve, reject) => {
    let settled = false;
    const fail = (error: GatewayClientError) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      session.closed = true;
      failAll(session, error);
      try {
        socket.close();
      } catch { /* already closing */ }
      reject(error);
    };
    const deadline = setTimeout(() => {
      const stage = session.opened ? "the handshake" : "the socket to open";
      fail(
        new GatewayClientError(
          "timeout",
          "TIMEOUT",
          `timed out after ${budget}ms waiting for ${stage} at ${url}`,
        ),
      );
    }, budget);
    const succeed = (hello: HelloOk) => {
      if (settled) return;
      settled = true;
      session.connected = true;
      clearTimeout(deadline);
      resolve(openConnection(session, hello, requestTimeout));
    };
    watchSocket(session, options, {
      settled: () => settled,
      challenged: (challenge) =>
        handshake(session, options, challenge, budget).then(
          succeed,
          (err) => fail(err as GatewayClientError),
        ),
      fail,
    });
  });
}

/** Rejects every pending request with `error`. */
function failAll(session: Session, error: GatewayClientError): void {
  for (const [id, entry] of session.pending) {
    clearTimeout(entry.timer);
    session.pending.delete(id);
    entry.reject(error);
  }
}

/** Sends one request frame and waits for its response (or the timeout). */
function send(
  session: Session,
  method: string,
  params: unknown,
  timeoutMs: number,
  expectFinal: boolean,
): Promise<unknown> {
  const { url, socket, pending } = session;
  if (session.closed || socket.readyState !== OPEN) {
    return Promise.reject(
      new GatewayClientError("closed", "CLOSED", `${method}: connection to ${url} is closed`),
    );
  }
  const id = `${++session.nextId}:${crypto.randomUUID()}`;
  const frame: RequestFrame = { type: "req", id, method, params: params ?? {} };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(
        new GatewayClientError(
          "timeout",
          "TIMEOUT",
          `${method} timed out after ${timeoutMs}ms waiting for ${url}`,
        ),
      );
    }, timeoutMs);
    pending.set(id, { method, expectFinal, resolve, reject, timer });
    socket.send(JSON.stringify(frame));
  });
}

/** Settles the request a response answers; an early `accepted` ack is skipped when the caller wants the final one. */
function onResponse(session: Session, frame: ResponseFrame): void {
  const entry = session.pending.get(frame.id);
  if (!entry) return;
  const payload = frame.payload as { status?: unknown } | undefined;
  if (frame.ok && entry.expectFinal && payload?.status === "accepted") return;
  clearTimeout(entry.timer);
  session.pending.delete(frame.id);
  if (frame.ok) entry.resolve(frame.payload);
  else if (entry.method === "connect") entry.reject(connectFailure(frame.error, session.url));
  else entry.reject(rpcFailure(entry.method, frame.error));
}

/** Sends `connect` in answer to the challenge and resolves with the `hello-ok` payload. */
async function handshake(
  session: Session,
  options: ConnectOptions,
  challenge: unknown,
  budget: number,
): Promise<HelloOk> {
  const hello = await send(session, "connect", await connectParams(options, challenge), budget, false);
  if (!isHelloOk(hello)) {
    throw new GatewayClientError(
      "protocol",
      "PROTOCOL",
      `${session.url} answered connect without a hello-ok payload`,
    );
  }
  return hello;
}

/** The `connect` params; a device token rides in `auth.token` too unless a shared token does (as the reference client sends it). */
async function connectParams(options: ConnectOptions, challenge: unknown): Promise<Record<string, unknown>> {
  const role = options.role ?? "operator";
  const scopes = options.scopes ?? ["operator.read"];
  const token = options.token ?? options.deviceToken;
  return {
    minProtocol: CLIENT_PROTOCOL_VERSION,
    maxProtocol: CLIENT_PROTOCOL_VERSION,
    client: options.client,
    caps: options.caps ?? [],
    auth: {
      ...(token !== undefined ? { token } : {}),
      ...(options.deviceToken !== undefined ? { deviceToken: options.deviceToken } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
    },
    role,
    scopes,
    ...(options.device
      ? {
        device: await deviceProof(options.device, challenge, {
          clientId: options.client.id,
          clientMode: options.client.mode,
          role,
          scopes,
          token: token ?? "",
          platform: options.client.platform,
          deviceFamily: options.client.deviceFamily,
        }),
      }
      : {}),
  };
}

/** The `device` block: the device's v3 signature over the challenge and what the connect claims. */
async function deviceProof(
  device: ClientDevice,
  challenge: unknown,
  claim: Omit<DeviceAuthClaim, "deviceId" | "signedAtMs" | "nonce">,
): Promise<Record<string, unknown>> {
  const { nonce, ts } = (challenge ?? {}) as { nonce?: unknown; ts?: unknown };
  if (typeof nonce !== "string" || typeof ts !== "number") {
    throw new GatewayClientError("protocol", "PROTOCOL", "connect.challenge carries no nonce and ts to sign");
  }
  const payload = deviceAuthPayloadV3({ ...claim, deviceId: device.id, signedAtMs: ts, nonce });
  let signature: string;
  try {
    signature = await device.sign(payload);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new GatewayClientError(
      "auth",
      "DEVICE_SIGN_FAILED",
      `the device could not sign its proof: ${reason}`,
    );
  }
  return { id: device.id, publicKey: device.publicKey, signature, signedAt: ts, nonce };
}

/** The connection handed to the caller once `hello-ok` arrived. */
function openConnection(session: Session, hello: HelloOk, requestTimeout: number): GatewayConnection {
  const { url, socket } = session;
  return {
    url,
    hello,
    request: <T>(method: string, params?: unknown, opts: RequestOptions = {}) =>
      send(session, method, params, opts.timeoutMs ?? requestTimeout, opts.expectFinal ?? false) as Promise<
        T
      >,
    close: () => {
      if (session.closed) return;
      session.closed = true;
      failAll(session, new GatewayClientError("closed", "CLOSED", `connection to ${url} was closed`));
      socket.close(1000, "client done");
    },
  };
}

/** Where the socket's events go while the connection attempt is open and after. */
interface SocketCallbacks {
  /** Whether the attempt already resolved or failed. */
  settled(): boolean;
  /** The server's `connect.challenge` arrived (its payload): run the handshake. */
  challenged(challenge: unknown): void;
  /** Ends the attempt with `error` (ignored once settled). */
  fail(error: GatewayClientError): void;
}

/** Routes the socket's open, message, error and close events. */
function watchSocket(session: Session, options: ConnectOptions, callbacks: SocketCallbacks): void {
  const { url, socket } = session;
  socket.addEventListener("open", () => {
    session.opened = true;
  });
  socket.addEventListener("message", (event: { data?: unknown }) => {
    const text = frameText(event.data);
    const frame = text === undefined ? undefined : parseServerFrame(text);
    if (!frame) return;
    if (frame.type === "res") return onResponse(session, frame);
    if (
      frame.event === "connect.challenge" && !session.connected && session.pending.size === 0 &&
      !callbacks.settled()
    ) {
      callbacks.challenged(frame.payload);
      return;
    }
    if (session.connected) options.onEvent?.(frame);
  });
  socket.addEventListener("error", (event: unknown) => {
    if (session.opened) return; // a close event follows with the details
    callbacks.fail(
      new GatewayClientError(
        "unreachable",
        "UNREACHABLE",
        `gateway unreachable at ${url}: ${describeSocketError(event)}`,
      ),
    );
  });
  socket.addEventListener("close", (event: { code?: number; reason?: string }) => {
    const why = `gateway closed (${event.code ?? 1006})${event.reason ? `: ${event.reason}` : ""}`;
    const error = session.opened
      ? new GatewayClientError("closed", "CLOSED", `${why} [${url}]`, {
        details: { closeCode: event.code },
      })
      : new GatewayClientError("unreachable", "UNREACHABLE", `gateway unreachable at ${url}: ${why}`);
    if (!callbacks.settled()) return callbacks.fail(error);
    session.closed = true;
    failAll(session, error);
  });
}
