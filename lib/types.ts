/**
 * The contract between the gateway core and everything that plugs into it: method handlers, HTTP
 * routes, modules, the event bus and the runtime seams (clock, env).
 *
 * @module
 */
import type { GatewayConfig } from "./config/schema.ts";
import type { Logger } from "./log/logger.ts";
import type { SecretRedactor } from "./log/secret-redactor.ts";
import type { MethodScope } from "./protocol/scopes.ts";
import type { PreparedResponse } from "./http/security-headers.ts";
import type { GatewayStores } from "./state/stores.ts";

/** What a connected client said about itself in `connect.params.client`. */
export interface ClientInfo {
  id: string;
  mode: string;
  version?: string;
  platform?: string;
  displayName?: string;
  deviceFamily?: string;
  modelIdentifier?: string;
  instanceId?: string;
}

/** Who is calling: an authenticated socket, an HTTP request, or the embedding app itself. */
export interface CallerIdentity {
  /** `connId` for sockets; `http:<n>` for HTTP calls; `internal` for in-process calls. */
  connId: string;
  role: "operator" | "node";
  scopes: readonly string[];
  client?: ClientInfo;
  deviceId?: string;
  /** How the caller proved itself: `token`, `password`, `trusted-proxy`, `device-token`, `none`, `internal`. */
  authMethod: string;
  remoteAddress?: string;
}

/** One method invocation as a handler sees it. */
export interface MethodCall {
  /** The request id (echoed in the response). */
  id: string;
  method: string;
  params: unknown;
  caller: CallerIdentity;
  /** Aborted when the caller disconnects or the gateway stops. */
  signal: AbortSignal;
  /**
   * Sends an early `res` (the first stage of a two-stage call, e.g. `agent`'s `accepted` ack). The
   * handler's return value still becomes the final `res` with the same id.
   */
  ack(payload: unknown): void;
  /** Sends an event frame to this caller only (no-op for callers without a socket). */
  sendEvent(event: string, payload: unknown): void;
}

/** A method handler: return the result payload, or throw a `GatewayError`. */
export type MethodHandler = (call: MethodCall) => unknown | Promise<unknown>;

/** A registered method. */
export interface MethodDefinition {
  name: string;
  scope: MethodScope;
  handler: MethodHandler;
}

/** Facts about an HTTP request that a web-standard `Request` does not carry. */
export interface RequestInfo {
  /** The peer address as the transport saw it (before any trusted-proxy rewriting). */
  remoteAddress: string;
}

/** An HTTP route. Paths match exactly unless `prefix` is set. */
export interface HttpRoute {
  path: string;
  prefix?: boolean;
  /** Allowed methods; anything else gets 405. Defaults to all. */
  methods?: string[];
  handler: (request: Request, info: RequestInfo) => Response | Promise<Response>;
}

/** An event as it leaves the bus, before it becomes a wire frame. */
export interface BusEvent {
  event: string;
  payload: unknown;
  /** Only sockets whose scopes satisfy this receive it; `none` (the default) means everyone. */
  scope?: MethodScope;
  /** When set, only these connection ids receive it. */
  connIds?: readonly string[];
  /** Droppable events (ticks, deltas) are skipped for slow consumers instead of closing them. */
  dropIfSlow?: boolean;
}

/** The gateway's event bus. In-process by default; a shared implementation can fan out across replicas. */
export interface EventBus {
  publish(event: BusEvent): void;
  subscribe(listener: (event: BusEvent) => void): () => void;
}

/** The result of checking an HTTP caller's credentials. */
export type HttpAuthResult =
  | { ok: true; caller: CallerIdentity }
  | { ok: false; response: Response };

/**
 * Watches traffic through the gateway (metrics, audit). Callbacks run inline on hot paths: keep them
 * cheap. A throwing observer is logged and ignored.
 */
export interface GatewayObserver {
  /** A socket was accepted (`open`), finished its handshake (`authenticated`), or went away (`close`). */
  connection?(change: "open" | "authenticated" | "close"): void;
  /** A method call finished. `method` is `unknown` for names nobody registered (bounded label sets). */
  request?(method: string, outcome: "ok" | "error", errorCode: string | undefined, durationMs: number): void;
  /** An HTTP request was answered. `route` is the matched route's path, or `other`. */
  http?(route: string, method: string, status: number, durationMs: number): void;
  /** A credential was refused; `reason` is a short code such as `AUTH_TOKEN_MISMATCH` or `401`. */
  authFailure?(transport: "ws" | "http", reason: string): void;
  /** A droppable event was skipped because the socket was slow. */
  eventDropped?(event: string): void;
}

/** Facts about a socket before its handshake, for {@link SocketGuard}s. */
export interface SocketRequestInfo {
  remoteAddress: string;
  headers: Headers;
  /** The upgrade request URL as the client addressed it. */
  url: string;
}

/** Screens a new socket (e.g. a browser origin check): a close reason refuses it with 1008. */
export type SocketGuard = (info: SocketRequestInfo) => string | undefined;

/** What a module receives at setup: the ways to extend the gateway and the shared services. */
export interface GatewayContext {
  readonly logger: Logger;
  readonly bus: EventBus;
  /** The shared-state stores (`GatewayOptions.stores`, in-process where none was given). */
  readonly stores: GatewayStores;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Every resolved secret value, to hide in what a module sends out itself (rebuilt on reload). */
  readonly secrets: SecretRedactor;
  now(): number;
  /** The config currently in force. */
  config(): GatewayConfig;
  /** Called after a config change was applied (hot reload). */
  onConfigChange(listener: (next: GatewayConfig, previous: GatewayConfig) => void): () => void;
  registerMethod(name: string, scope: MethodScope, handler: MethodHandler): void;
  registerRoute(route: HttpRoute): void;
  /** Invokes a registered method in-process, enforcing `caller`'s scopes. */
  callMethod(method: string, params: unknown, caller: CallerIdentity, signal?: AbortSignal): Promise<unknown>;
  /** Checks `Authorization: Bearer` (token or password) or trusted-proxy headers for HTTP endpoints. */
  authenticateHttp(request: Request, info: RequestInfo): Promise<HttpAuthResult>;
  /**
   * The client a request is attributed to: the forwarded client when the peer is a trusted proxy, else
   * the peer. Key per-client limits on this, never on `info.remoteAddress`.
   */
  clientAddress(request: Request, info: RequestInfo): string;
  /**
   * A JSON answer served many times with the same bytes (security headers included), handed out as
   * cheaply as the transport's runtime allows.
   */
  prepareJsonResponse(text: string, status?: number, headers?: Record<string, string>): PreparedResponse;
  /** Registers work to run when the gateway stops (after sockets are closed). */
  onStop(hook: () => void | Promise<void>): void;
  /** Adds event names to `hello-ok.features.events` so clients know they may arrive. */
  declareEvents(names: readonly string[]): void;
  /**
   * Adds a check to `/ready` and `/readyz`: it returns why the gateway is not ready (e.g. a channel
   * account failing its probe), or `undefined` when it is.
   */
  addReadinessCheck(name: string, check: () => string | undefined): void;
  /** Adds keys to the `status` method's result. */
  addStatusSection(provider: () => Record<string, unknown>): void;
  /** Adds keys to the health snapshot (`health` method, `hello-ok.snapshot.health`). */
  addHealthSection(provider: () => Record<string, unknown>): void;
  /** Bumps and returns the named state version (e.g. `presence`, `health`). */
  bumpStateVersion(key: string): Promise<number>;
  /** Starts watching traffic; returns the function that stops it. */
  observe(observer: GatewayObserver): () => void;
  /** Adds a check every new socket must pass before its handshake. */
  guardSockets(guard: SocketGuard): void;
}

/** A feature that plugs into the gateway: registers methods, routes and listeners at setup. */
export interface GatewayModule {
  name: string;
  setup(context: GatewayContext): void | Promise<void>;
}
