/**
 * The contract between the gateway core and everything that plugs into it: method handlers, HTTP
 * routes, modules, the event bus and the runtime seams (clock, env).
 *
 * @module
 */
import type { SocketTopics } from "./bus/topics.ts";
import type { EventBus } from "./bus/types.ts";
import type { GatewayConfig } from "./config/schema.ts";
import type { Logger } from "./log/logger.ts";
import type { SecretRedactor } from "./log/secret-redactor.ts";
import type { MethodScope } from "./protocol/scopes.ts";
import type { AnyMethod, CallerIdentity, ClientInfo } from "./methods/descriptor.ts";
import type { LazyMethod } from "./methods/lazy.ts";
import type { ServiceKey } from "./services.ts";
import type { GatewayStores } from "./state/stores.ts";

export type {
  AnyMethod,
  CallerIdentity,
  ClientInfo,
  MethodCall,
  MethodDescriptor,
  ValidatedCall,
} from "./methods/descriptor.ts";
export type { ServiceKey } from "./services.ts";

/** Facts about an HTTP request that a web-standard `Request` does not carry. */
export interface RequestInfo {
  /** The peer address as the transport saw it (before any trusted-proxy rewriting). */
  remoteAddress: string;
}

/**
 * Checks an HTTP caller's credentials from the request head alone: it runs before any body is read, so a
 * caller without credentials never makes the gateway wait for (or buffer) a body.
 */
export type HttpAuthenticator = (
  request: Request,
  info: RequestInfo,
  options?: HttpAuthOptions,
) => HttpAuthResult | Promise<HttpAuthResult>;

/** What else the gateway's HTTP auth may accept on a route besides the shared secret and the trusted proxy. */
export interface HttpAuthOptions {
  /**
   * An approved operator device token as the bearer, its caller held to `operator.read` at most: a
   * header cannot prove the device's key, so only the Control UI's own reads take one, as in the reference.
   */
  deviceTokens?: boolean;
}

/**
 * Who may call a route: `gateway` (the gateway's bearer token or password, or trusted-proxy headers, as
 * {@link GatewayContext.authenticateHttp} checks them), `control-ui-read` (the same, or an operator device
 * token held to `operator.read`: the Control UI's own reads, see {@link HttpAuthOptions}), `none` (anyone:
 * probes, static assets), or the route's own {@link HttpAuthenticator} (a hook token, a webhook signature).
 */
export type HttpRouteAuth = "gateway" | "control-ui-read" | "none" | HttpAuthenticator;

/**
 * Answers a request the router has admitted. `caller` is who the route's `auth` proved the caller to be;
 * `undefined` for `auth: "none"`.
 */
export type HttpHandler = (
  request: Request,
  info: RequestInfo,
  caller: CallerIdentity | undefined,
) => Response | Promise<Response>;

/**
 * An HTTP route. Paths match exactly unless `prefix` is set. The router answers, in order: 405 for a
 * method not in `methods`, 404 while `enabled` says no, the `auth` refusal, the scope refusal, and only
 * then runs `handler`.
 */
export interface HttpRoute {
  /** The URL path it answers, e.g. `/v1/models` (query strings are not part of it). */
  path: string;
  /**
   * Also answer every path below `path`, by whole segments (`/hooks` matches `/hooks/x`, not `/hooksx`);
   * an exact route of the same path wins, and the longest prefix wins among prefixes.
   */
  prefix?: boolean;
  /** Allowed methods; anything else gets 405. Defaults to all. */
  methods?: string[];
  /**
   * Whether the route is on for this request (read per request, so a config reload applies at once).
   * When it is not, the answer is the router's own 404, before auth: a switched-off surface looks absent.
   */
  enabled?: (request: Request) => boolean;
  /** Who may call; `none` when unset. Checked before the handler runs and before any body is read. */
  auth?: HttpRouteAuth;
  /** The scope the authenticated caller needs; checked after `auth`. */
  scope?: MethodScope;
  /**
   * The answer when the caller lacks `scope`; by default `403 {error:{message:"missing scope: <scope>",
   * type:"forbidden"}}`, the gateway's HTTP error shape.
   */
  scopeRefusal?: (scope: MethodScope) => Response;
  /** Answers the request once the router admitted it. */
  handler: HttpHandler;
}

export type { BusEvent, EventBus, PublishGuard } from "./bus/types.ts";

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
  /**
   * An event was handed to `sockets` sockets of this process, taking `durationMs` from entering fan-out
   * until the last send returned (frames queued, not yet written).
   */
  fanOut?(event: string, sockets: number, durationMs: number): void;
}

/** Facts about a socket before its handshake, for {@link SocketGuard}s. */
export interface SocketRequestInfo {
  /** The peer address as the transport saw it (before any trusted-proxy rewriting). */
  remoteAddress: string;
  /** The headers of the upgrade request (`origin`, `user-agent`, forwarding headers). */
  headers: Headers;
  /** The upgrade request URL as the client addressed it. */
  url: string;
}

/** Screens a new socket (e.g. a browser origin check): a close reason refuses it with 1008. */
export type SocketGuard = (info: SocketRequestInfo) => string | undefined;

/** The `connect` params a socket sent, as far as client listeners read them. */
export interface ClientConnectParams {
  /** What the client said about itself. */
  client: ClientInfo;
  /** A node's capability categories (`camera`, `screen`), or an operator's client capabilities. */
  caps?: string[];
  /** A node's commands (`device.info`, `system.notify`). */
  commands?: string[];
  /** A node's permission toggles. */
  permissions?: Record<string, unknown>;
  /** Whatever else it sent (a node's `pathEnv`, ...). */
  [key: string]: unknown;
}

/** An authenticated socket as client listeners see it: who it is and what it declared at `connect`. */
export interface ConnectedClient {
  /** The identity the handshake proved. */
  readonly caller: CallerIdentity;
  /** The `connect` params it sent. */
  readonly connect: ClientConnectParams;
}

/** Hears sockets that authenticate and close (see {@link GatewayContext.onClient}). */
export interface ClientListener {
  /**
   * A socket authenticated; its `hello-ok` goes out once every listener's promise settled. Throwing a
   * `GatewayError` refuses the connect with that error.
   */
  connected?(client: ConnectedClient): void | Promise<void>;
  /** A socket whose `connected` ran has closed. */
  disconnected?(client: ConnectedClient): void;
}

/** Hands out a fresh copy of one prepared response per call. */
export type PreparedResponse = () => Response;

/** Who a `status` answer is for: details sensitive on shared hosts (addresses, hosts, pids) are for admins. */
export interface StatusView {
  /** Whether the caller holds `operator.admin`. */
  admin: boolean;
}

/** Event-loop lag over the last minute: how late the gateway's loop sampler ran, p99 and max. */
export interface LoopDelayStats {
  /** 99th percentile lag, ms. */
  p99Ms: number;
  /** Largest lag, ms. */
  maxMs: number;
}

/** What a module receives at setup: the ways to extend the gateway and the shared services. */
export interface GatewayContext {
  /** The gateway's structured logger; take a `child` per module. */
  readonly logger: Logger;
  /** Where events for clients are published (the same as `stores.bus`). */
  readonly bus: EventBus;
  /** The shared-state seams (in process unless the embedder passed shared ones). */
  readonly stores: GatewayStores;
  /** Topic subscriptions of this process's sockets; bus events with `topics` reach their subscribers. */
  readonly topics: SocketTopics;
  /** The environment the embedder handed in (never read from the process). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Every resolved secret value, to hide in what a module sends out itself (rebuilt on reload). */
  readonly secrets: SecretRedactor;
  /** The gateway clock, in epoch milliseconds. */
  now(): number;
  /** Event-loop lag over the last minute, from the gateway's one loop sampler (runs while started). */
  loopDelay(): LoopDelayStats;
  /** The config currently in force. */
  config(): GatewayConfig;
  /** Called after a config change was applied (hot reload). */
  onConfigChange(listener: (next: GatewayConfig, previous: GatewayConfig) => void): () => void;
  /**
   * Adds a method: its params are validated against its schema before the handler runs. A
   * {@link LazyMethod} is listed and scope-checked at once and loads its descriptor on its first call.
   */
  registerMethod(method: AnyMethod | LazyMethod): void;
  /** Adds an HTTP route. */
  registerRoute(route: HttpRoute): void;
  /** Invokes a registered method in-process, enforcing `caller`'s scopes. */
  callMethod(method: string, params: unknown, caller: CallerIdentity, signal?: AbortSignal): Promise<unknown>;
  /** Checks `Authorization: Bearer` (token or password) or trusted-proxy headers for HTTP endpoints. */
  authenticateHttp(
    request: Request,
    info: RequestInfo,
    options?: HttpAuthOptions,
  ): HttpAuthResult | Promise<HttpAuthResult>;
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
  addStatusSection(
    provider: (view: StatusView) => Record<string, unknown> | Promise<Record<string, unknown>>,
  ): void;
  /** Adds keys to the health snapshot (`health` method, `hello-ok.snapshot.health`). */
  addHealthSection(provider: () => Record<string, unknown> | Promise<Record<string, unknown>>): void;
  /** Adds keys to `hello-ok.snapshot` (e.g. `sessionDefaults`). */
  addHelloSnapshotSection(provider: () => Record<string, unknown>): void;
  /** Bumps and returns the named state version (e.g. `presence`, `health`). */
  bumpStateVersion(key: string): Promise<number>;
  /** Starts watching traffic; returns the function that stops it. */
  observe(observer: GatewayObserver): () => void;
  /** Adds a check every new socket must pass before its handshake. */
  guardSockets(guard: SocketGuard): void;
  /** Hears authenticated sockets come and go (e.g. to keep a registry of connected nodes). */
  onClient(listener: ClientListener): () => void;
  /**
   * Runs `run` on one replica of the cluster at a time (on this process alone without shared stores),
   * under a lease in `stores.leases` (lib/state/singleton.ts) lasting `gateway.cluster.leaseTtlMs`. The job
   * stops when the gateway does, or earlier when `options.signal` aborts (its lease is then released once
   * the job has settled).
   */
  runSingleton(
    name: string,
    run: (signal: AbortSignal) => void | Promise<void>,
    options?: { signal?: AbortSignal },
  ): void;
  /** This replica's id: `hello-ok.server.bootId`, its presence row and the owner of its singleton leases. */
  readonly replicaId: string;
  /** Where this gateway listens, once it does. */
  listeningAddress(): { hostname: string; port: number } | undefined;
  /** Makes `service` available to every module under `key` (once per key). */
  provide<T>(key: ServiceKey<T>, service: T): void;
  /** The service under `key`; throws when no installed module provides it. Use it at call time. */
  service<T>(key: ServiceKey<T>): T;
  /**
   * Runs `use` once `key` is provided, now or when the providing module sets up: wiring done at setup
   * goes through here, so the order modules are listed in does not matter. Never runs when no module
   * provides the key.
   */
  whenProvided<T>(key: ServiceKey<T>, use: (service: T) => void): void;
}

/** A feature that plugs into the gateway: registers methods, routes and listeners at setup. */
export interface GatewayModule {
  /** Shown in logs. */
  name: string;
  /** Registers what the module adds; the gateway awaits it, one module after another, at start. */
  setup(context: GatewayContext): void | Promise<void>;
}
