/**
 * `createGateway()`: the runtime-agnostic gateway. It owns methods, routes, connections, auth and state;
 * transports put it on the network and modules extend it.
 *
 * @module
 */
import { Authenticator, proxyAttributionRefusal } from "./auth/authenticator.ts";
import { attributeClient } from "./auth/client-address.ts";
import { normalizeIp } from "./auth/ip.ts";
import { addressBucket } from "./auth/address-bucket.ts";
import { bindHostFor, isDirectLocal, isLoopbackAddress } from "./auth/locality.ts";
import { authRateLimitPolicy } from "./auth/rate-limit.ts";
import { authConfigProblem, resolveAuth, type ResolvedAuth } from "./auth/shared-secret.ts";
import { InProcessEventBus } from "./bus/event-bus.ts";
import { originRefusal } from "./ui/origin.ts";
import { type GatewayConfig, validateConfig } from "./config/schema.ts";
import { DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS, type GatewayTlsConfig } from "./config/sections/gateway.ts";
import { GatewayError, toErrorShape } from "./errors.ts";
import { redactResponse } from "./http/redact-response.ts";
import { HttpRouter } from "./http/router.ts";
import {
  jsonResponse,
  preparedJsonResponse,
  textResponse,
  withSecurityHeaders,
} from "./http/security-headers.ts";
import { createLogger, type Logger, type LogLevel, type LogSink, MemoryLogSink } from "./log/logger.ts";
import { collectSecretValues, SecretRedactor } from "./log/secret-redactor.ts";
import { type LogTailSource, MemoryLogTail } from "./log/tail.ts";
import { MethodRegistry } from "./methods/registry.ts";
import { systemModule } from "./methods/system.ts";
import {
  CloseCode,
  DEFAULT_PORT,
  HANDSHAKE_TIMEOUT_MS,
  MAX_BUFFERED_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_UNAUTHENTICATED_SOCKETS,
  PROTOCOL_VERSION,
  TICK_INTERVAL_MS,
} from "./protocol/constants.ts";
import { DEFAULT_OPERATOR_SCOPES, scopeSatisfied } from "./protocol/scopes.ts";
import { IdempotencyConflict, requestFingerprint } from "./state/idempotency.ts";
import type { PresenceEntry } from "./state/presence.ts";
import type { StateVersions } from "./state/state-version.ts";
import { completeStores, type GatewayStores } from "./state/stores.ts";
import { type ListeningServer, throttledWarning, type TlsFiles, type Transport } from "./transports/types.ts";
import type {
  BusEvent,
  CallerIdentity,
  EventBus,
  GatewayContext,
  GatewayModule,
  GatewayObserver,
  HttpRoute,
  MethodCall,
  MethodHandler,
  RequestInfo,
  SocketGuard,
} from "./types.ts";
import { GATEWAY_VERSION } from "./version.ts";
import { Connection, type ConnectionHost } from "./ws/connection.ts";
import type { GatewayServerHandler, SocketHandlers, SocketInfo, SocketWire } from "./ws/wire.ts";
import type { MethodScope } from "./protocol/scopes.ts";

/** Options for {@link createGateway}. Everything has a default so `createGateway()` works for tests. */
export interface GatewayOptions {
  /** The parsed `openclaw.json` (validated here). */
  config?: GatewayConfig;
  /** Environment variables the gateway may read (`OPENCLAW_GATEWAY_TOKEN`, ...). Never read from the process. */
  env?: Record<string, string | undefined>;
  /** How to listen; without one, `start()` only readies the in-memory path. */
  transport?: Transport;
  /** Features to install, after the built-in system methods. */
  modules?: GatewayModule[];
  /** Overrides `gateway.port` (0 picks a free port). */
  port?: number;
  /** Overrides the host `gateway.bind` resolves to. */
  hostname?: string;
  logSinks?: LogSink[];
  logLevel?: LogLevel;
  /** Serves `logs.tail`; defaults to the gateway's in-memory log buffer. */
  logTail?: LogTailSource;
  /** Shown in `hello-ok.snapshot`. */
  paths?: { configPath?: string; stateDir?: string };
  /**
   * Secret values the host resolved before the config reached the core (SecretRef results), read again
   * on every config change; they are redacted alongside those the core finds in the config itself.
   */
  secretValues?: () => Iterable<string>;
  /** Shared-state seams (see `memoryStores`); members left out are in-process. */
  stores?: Partial<GatewayStores> & { bus?: EventBus };
  /** Facts about this host for the gateway's own presence row. */
  host?: { name?: string; platform?: string; ip?: string };
  /** Protocol timing overrides (tests shorten them). */
  timing?: { tickIntervalMs?: number; handshakeTimeoutMs?: number; drainTimeoutMs?: number };
  /** Protocol limit overrides; see docs/security.md for each default. */
  limits?: {
    maxPayload?: number;
    maxBufferedBytes?: number;
    maxUnauthenticatedSockets?: number;
    /** Overrides `gateway.limits.headerTimeoutMs`. */
    headerTimeoutMs?: number;
  };
  now?: () => number;
  newId?: () => string;
}

/** Options for {@link Gateway.stop}. */
export interface StopOptions {
  /** Sent to clients in the `shutdown` event. */
  reason?: string;
  /** When set, tells clients a restart is coming in about this many ms. */
  restartExpectedMs?: number;
}

/** The outcome of {@link Gateway.updateConfig}. */
export type ConfigUpdateResult =
  | { ok: true }
  | { ok: false; issues: { path: string; message: string }[] };

/** A running (or startable) gateway. */
export interface Gateway {
  /** Installs modules, checks auth and bind safety, and listens when a transport is set. */
  start(): Promise<{ hostname: string; port: number } | undefined>;
  /** Tells every client `shutdown`, closes sockets with 1012, stops listening. Idempotent. */
  stop(options?: StopOptions): Promise<void>;
  /** The web-standard HTTP handler for every non-upgrade request. */
  fetch(request: Request, info?: RequestInfo): Promise<Response>;
  /** What transports drive (HTTP, upgrade admission, sockets). */
  readonly handler: GatewayServerHandler;
  readonly bus: EventBus;
  readonly logger: Logger;
  /** Hides every resolved secret value in what leaves the process; rebuilt on config changes. */
  readonly secrets: SecretRedactor;
  registerMethod(name: string, scope: MethodScope, handler: MethodHandler): void;
  registerRoute(route: HttpRoute): void;
  /**
   * Applies a new config without restarting; a config that fails validation is rejected and the old one
   * kept. `source` (where it came from, its digest) goes into the `config.changed` event clients get.
   */
  updateConfig(next: unknown, source?: { path?: string; hash?: string }): ConfigUpdateResult;
  config(): GatewayConfig;
  /** Invokes a method in-process as `caller` (defaults to a full-scope internal caller). */
  call(method: string, params?: unknown, caller?: CallerIdentity): Promise<unknown>;
  readonly state: {
    presence(): Promise<PresenceEntry[]>;
    health(): Record<string, unknown>;
    uptimeMs(): number;
    stateVersion(): Promise<StateVersions>;
    connections(): number;
    address(): { hostname: string; port: number } | undefined;
  };
}

const BASE_EVENTS = [
  "connect.challenge",
  "tick",
  "shutdown",
  "presence",
  "health",

  "config.changed",
];
const QUIET_PRESENCE_MODES = new Set(["cli", "backend", "probe"]);

/** The PEM paths to serve HTTPS/WSS with, or undefined when `gateway.tls` is off. */
function tlsFiles(tls: GatewayTlsConfig | undefined): TlsFiles | undefined {
  if (!tls?.enabled) return undefined;
  if (!tls.certPath || !tls.keyPath) {
    throw new GatewayError(
      "CONFIG_INVALID",
      "gateway.tls.enabled is true but gateway.tls.certPath and gateway.tls.keyPath are not both set; " +
        "point them at a PEM certificate and key, or set gateway.tls.enabled to false",
    );
  }
  return { certPath: tls.certPath, keyPath: tls.keyPath };
}

/** Creates a gateway. Nothing listens until `start()`. */
export function createGateway(options: GatewayOptions = {}): Gateway {
  const now = options.now ?? (() => Date.now());
  const newId = options.newId ?? (() => crypto.randomUUID());
  const env = options.env ?? {};
  // The in-memory buffer only serves `logs.tail` when the host gives no tail of its own (the runner tails
  // its file): filling it anyway would keep the last 2,000 records alive for nothing.
  const memoryLog = options.logTail ? undefined : new MemoryLogSink();
  const secrets = new SecretRedactor();
  const sinks = [...(memoryLog ? [memoryLog] : []), ...(options.logSinks ?? [])];
  // Every sink (the logs.tail buffer included) gets the record with secret values already replaced.
  const redactedSink: LogSink = {
    write(record) {
      const clean = secrets.redact(record);
      for (const sink of sinks) sink.write(clean);
    },
  };
  const logger = createLogger({
    sinks: [redactedSink],
    level: options.logLevel,
    now,
  });
  const logTail = options.logTail ?? new MemoryLogTail(memoryLog!);
  const initial = validateConfig(options.config ?? {});
  if (!initial.ok) {
    const first = initial.issues[0];
    throw new GatewayError("CONFIG_INVALID", `invalid config at ${first.path}: ${first.message}`, {
      details: { issues: initial.issues },
    });
  }
  let config = initial.config;
  let auth: ResolvedAuth = resolveAuth(config.gateway?.auth, env);
  const refreshSecrets = () => {
    const values = collectSecretValues(config, env);
    for (const value of [auth.token, auth.password, ...(options.secretValues?.() ?? [])]) {
      if (value) values.add(value);
    }
    secrets.update(values);
  };
  refreshSecrets();
  const bus = options.stores?.bus ??
    new InProcessEventBus((e) => logger.error("event listener failed", { error: String(e) }));
  const stores = completeStores(options.stores, { now });
  const { presence, idempotency } = stores;
  const registry = new MethodRegistry();
  const router = new HttpRouter();
  const events = new Set(BASE_EVENTS);
  const healthSections: (() => Record<string, unknown>)[] = [];
  const statusSections: (() => Record<string, unknown>)[] = [];
  const readinessChecks = new Map<string, () => string | undefined>();
  const configListeners = new Set<(next: GatewayConfig, prev: GatewayConfig) => void>();
  const stopHooks: (() => void | Promise<void>)[] = [];
  const connections = new Set<Connection>();
  const observers = new Set<GatewayObserver>();
  const accessLog = logger.child("access");
  const accessLogOn = () => config.logging?.accessLog !== false;
  /** How each HTTP request authenticated (`ok:<method>`, `refused`), for its access-log line. */
  const httpAuthOutcome = new WeakMap<Request, string>();
  const socketGuards: SocketGuard[] = [];
  const notify = (report: (observer: GatewayObserver) => void) => {
    for (const observer of observers) {
      try {
        report(observer);
      } catch (error) {
        logger.warn("observer failed", { error: String(error) });
      }
    }
  };
  /** Reports a method call's outcome and duration to observers. */
  const observed = (method: string, call: () => Promise<unknown>): Promise<unknown> => {
    if (!observers.size) return call();
    const started = now();
    const label = registry.has(method) ? method : "unknown";
    const settled = (outcome: "ok" | "error", code?: string) =>
      notify((o) => o.request?.(label, outcome, code, now() - started));
    let result: Promise<unknown>;
    try {
      result = call();
    } catch (error) {
      result = Promise.reject(error);
    }
    return result.then(
      (value) => (settled("ok"), value),
      (error) => {
        settled("error", toErrorShape(error).code);
        throw error;
      },
    );
  };
  /**
   * The newest counters this process has seen, stamped on `presence`/`health` events as they fan out;
   * the store stays the authority (hello-ok reads it).
   */
  let stateVersion: StateVersions = { presence: 1, health: 1 };
  const noteVersions = (seen: StateVersions) => {
    stateVersion = {
      presence: Math.max(stateVersion.presence, seen.presence),
      health: Math.max(stateVersion.health, seen.health),
    };
    return stateVersion;
  };
  const policy = {
    maxPayload: options.limits?.maxPayload ?? MAX_PAYLOAD_BYTES,
    maxBufferedBytes: options.limits?.maxBufferedBytes ?? MAX_BUFFERED_BYTES,
    handshakeTimeoutMs: options.timing?.handshakeTimeoutMs ??
      (Number(env.OPENCLAW_HANDSHAKE_TIMEOUT_MS) || HANDSHAKE_TIMEOUT_MS),
  };
  const tickIntervalMs = options.timing?.tickIntervalMs ?? TICK_INTERVAL_MS;
  const maxUnauthenticated = options.limits?.maxUnauthenticatedSockets ?? MAX_UNAUTHENTICATED_SOCKETS;
  const selfId = newId();
  let startedAt = now();
  let phase: "idle" | "starting" | "running" | "stopping" | "stopped" = "idle";
  let server: ListeningServer | undefined;
  let tickTimer: ReturnType<typeof setInterval> | undefined;
  let setupDone: Promise<void> | undefined;
  let setupComplete = false;
  let unauthenticated = 0;
  /**
   * Unauthenticated sockets per client address bucket, and each such socket's bucket. These caps count
   * this process's own sockets, so they stay process-local rather than in the shared stores.
   */
  const unauthenticatedFrom = new Map<string, number>();
  const bucketOf = new Map<Connection, string>();
  let inflight = 0;
  let drained: (() => void) | undefined;

  const rateLimitPolicy = authRateLimitPolicy(config.gateway?.auth?.rateLimit);
  /** Who a request comes from, address-wise: the forwarded client when the peer is a trusted proxy. */
  const attribute = (remoteAddress: string, headers: Headers) =>
    attributeClient(remoteAddress, headers, {
      trustedProxies: config.gateway?.trustedProxies ?? [],
      allowRealIpFallback: config.gateway?.allowRealIpFallback ?? false,
    });
  /** The attributed client address: what every per-client limit (auth, hooks, pre-auth caps) keys on. */
  const clientAddress = (remoteAddress: string, headers: Headers) =>
    attribute(remoteAddress, headers).address;
  // Listing interfaces is a system call; every trusted-proxy request needs the answer, which changes
  // rarely. A failed listing is not kept, so the next request tries again.
  let hostAddressCache: { at: number; addresses: ReadonlySet<string> } | undefined;
  const hostAddresses = (): ReadonlySet<string> => {
    if (hostAddressCache && now() - hostAddressCache.at < HOST_ADDRESS_TTL_MS) {
      return hostAddressCache.addresses;
    }
    const addresses = new Set(
      (options.transport?.interfaceAddresses?.() ?? []).flatMap((a) => normalizeIp(a) ?? []),
    );
    hostAddressCache = { at: now(), addresses };
    return addresses;
  };
  const authenticator = new Authenticator({
    auth: () => auth,
    trustedProxies: () => config.gateway?.trustedProxies ?? [],
    attribute,
    interfaceAddresses: () => hostAddresses(),
    originRefusal: (headers, url) =>
      originRefusal({ remoteAddress: "", headers, url }, config.gateway?.controlUi?.allowedOrigins ?? []),
    rateLimits: stores.rateLimits,
    rateLimitPolicy,
    exemptLoopback: () => config.gateway?.auth?.rateLimit?.exemptLoopback ?? true,
    devices: stores.devices,
    now,
    newToken: () => newId().replace(/-/g, "") + newId().replace(/-/g, ""),
  });

  const health = (): Record<string, unknown> => {
    const started = now();
    const snapshot: Record<string, unknown> = {
      ok: true,
      ts: started,
      durationMs: 0,
      configReload: {
        hotReloadStatus: (config.gateway?.reload?.mode ?? "hybrid") === "off" ? "disabled" : "active",
      },
      channels: {},
      channelOrder: [],
      channelLabels: {},
    };
    for (const section of healthSections) Object.assign(snapshot, section());
    snapshot.durationMs = Math.max(0, Math.round(now() - started));
    return snapshot;
  };

  const selfPresence = (): PresenceEntry => {
    const host = options.host?.name ?? "gateway";
    const entry: PresenceEntry = {
      host,
      version: GATEWAY_VERSION,
      platform: options.host?.platform ?? "unknown",
      mode: "gateway",
      reason: "self",
      instanceId: selfId,
      text: `Gateway: ${host} · app ${GATEWAY_VERSION} · mode gateway · reason self`,
      ts: now(),
    };
    if (options.host?.ip && !isLoopbackAddress(options.host.ip)) entry.ip = options.host.ip;
    return entry;
  };

  /**
   * Presence changes apply and publish one at a time, in the order they happened: a removal is never
   * overtaken by a later upsert of the same key, nor a newer list by an older one.
   */
  let presenceChanges: Promise<void> = Promise.resolve();
  const changePresence = (change: () => Promise<boolean | void>): Promise<void> =>
    presenceChanges = presenceChanges.then(async () => {
      if ((await change()) === false) return;
      noteVersions(await stores.stateVersions.bump("presence"));
      bus.publish({ event: "presence", payload: { presence: await presence.list(now()) } });
    }).catch((error) => logger.error("presence update failed", { error: String(error) }));

  const address = () => server ? { hostname: server.hostname, port: server.port } : undefined;

  const internalCaller: CallerIdentity = {
    connId: "internal",
    role: "operator",
    scopes: DEFAULT_OPERATOR_SCOPES,
    authMethod: "internal",
  };

  const dispatch = (
    caller: CallerIdentity,
    id: string,
    method: string,
    params: unknown,
    signal: AbortSignal,
    io: { ack(payload: unknown): void; sendEvent(event: string, payload: unknown): void },
  ): Promise<unknown> => {
    const key = typeof (params as { idempotencyKey?: unknown })?.idempotencyKey === "string"
      ? (params as { idempotencyKey: string }).idempotencyKey
      : undefined;
    if (phase === "stopping") {
      return Promise.reject(
        new GatewayError("UNAVAILABLE", "gateway is stopping; retry after it restarts", { retryable: true }),
      );
    }
    const call: MethodCall = { id, method, params, caller, signal, ...io };
    inflight++;
    const settle = () => {
      if (--inflight === 0) drained?.();
    };
    try {
      if (!key) return registry.dispatch(call).finally(settle);
      // Authorize before consulting the store so a caller without the scope cannot read another's result.
      registry.authorize(method, caller);
      return replayable(key, call).finally(settle);
    } catch (error) {
      settle();
      return Promise.reject(error);
    }
  };

  /**
   * Runs a keyed call at most once. A retry gets the original outcome, including the two-stage ack, so
   * a client that reconnected mid-run still sees `accepted` before the final result.
   */
  const replayable = async (key: string, call: MethodCall): Promise<unknown> => {
    let ranHere = false;
    // Keys are global, across callers (a reconnected client's retry must find its run) and across
    // methods (a key may become a run id, which must stay unique), so a replay goes only to a request
    // identical to the first: same method, same session, same message. Anything else sent with a used
    // key is refused, never answered with another caller's run.
    const fingerprint = await requestFingerprint({ method: call.method, params: call.params });
    // Prefixed so a client's key can never name a record another surface (hooks) keeps in the store.
    const record = await idempotency.run(`rpc:${key}`, fingerprint, async () => {
      ranHere = true;
      let ack: { payload: unknown } | undefined;
      const result = await registry.dispatch({
        ...call,
        ack(payload) {
          ack = { payload };
          call.ack(payload);
        },
      });
      return { ack, result };
    }).catch((error) => {
      if (!(error instanceof IdempotencyConflict)) throw error;
      throw new GatewayError(
        "INVALID_REQUEST",
        `${call.method}: this idempotencyKey was already used for a different request; send it with a new key`,
        {
          details: {
            reason: call.method === "chat.send" ? "chat-request-conflict" : "idempotency-key-conflict",
          },
        },
      );
    });
    if (!ranHere && record.ack) call.ack(record.ack.payload);
    return record.result;
  };

  /** Waits for in-flight calls to finish, at most `ms`. */
  const drain = (ms: number) =>
    inflight === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      drained = () => {
        clearTimeout(timer);
        // A macrotask later, so the last call's response frame is written before sockets close.
        setTimeout(resolve, 0);
      };
    });

  const host: ConnectionHost = {
    logger: logger.child("ws"),
    policy,
    now,
    newId,
    async authenticate(params, connection) {
      const result = await authenticator.authenticateSocket(params, {
        connId: connection.connId,
        remoteAddress: connection.info.remoteAddress,
        headers: connection.info.headers,
        url: connection.info.url,
        nonce: connection.nonce,
      }).catch((error) => {
        const code = toErrorShape(error).details?.code;
        notify((o) => o.authFailure?.("ws", typeof code === "string" ? code : "CONNECT_FAILED"));
        throw error;
      });
      deviceTokens.set(connection, result.deviceToken);
      return result.caller;
    },
    async hello(connection) {
      const caller = connection.caller!;
      const authBlock: Record<string, unknown> = {
        method: caller.authMethod,
        role: caller.role,
        scopes: [...caller.scopes],
      };
      const token = deviceTokens.get(connection);
      if (token) authBlock.deviceToken = token;
      const [rows, versions] = await Promise.all([presence.list(now()), stores.stateVersions.current()]);
      const snapshot: Record<string, unknown> = {
        presence: rows,
        health: health(),
        stateVersion: noteVersions(versions),
        uptimeMs: Math.max(0, Math.round(now() - startedAt)),
        authMode: auth.mode,
      };
      if (options.paths?.configPath) snapshot.configPath = options.paths.configPath;
      if (options.paths?.stateDir) snapshot.stateDir = options.paths.stateDir;
      return {
        type: "hello-ok",
        protocol: PROTOCOL_VERSION,
        server: { version: GATEWAY_VERSION, bootId: selfId, connId: connection.connId },
        features: { methods: registry.names(), events: [...events] },
        snapshot,
        auth: authBlock,
        policy: { maxPayload: policy.maxPayload, maxBufferedBytes: policy.maxBufferedBytes, tickIntervalMs },
      };
    },
    dispatch(connection, id, method, params, signal) {
      return observed(method, () =>
        dispatch(connection.caller!, id, method, params, signal, {
          ack: (payload) => connection.ack(id, payload),
          sendEvent: (event, payload) => connection.sendEvent(event, payload),
        }));
    },
    authenticated(connection) {
      unauthenticated--;
      releaseBucket(connection);
      notify((o) => o.connection?.("authenticated"));
      deviceTokens.delete(connection);
      const caller = connection.caller!;
      logger.info("client connected", {
        connId: connection.connId,
        remote: caller.remoteAddress,
        client: caller.client?.id,
        mode: caller.client?.mode,
        auth: caller.authMethod,
      });
      if (caller.client && !QUIET_PRESENCE_MODES.has(caller.client.mode)) {
        const key = presenceKey(connection);
        presenceOwners.set(key, connection);
        const row = connectionPresence(connection, "connect", now());
        changePresence(() => presence.upsert(key, row));
      }
    },
    closed(connection) {
      if (!connections.delete(connection)) return;
      notify((o) => o.connection?.("close"));
      if (accessLogOn()) {
        const { code, reason, by } = connection.closeInfo ?? {};
        accessLog.info("client disconnected", {
          connId: connection.connId,
          ...(connection.caller?.client ? { client: connection.caller.client.id } : {}),
          authenticated: Boolean(connection.caller),
          ...(code !== undefined ? { code } : {}),
          ...(reason ? { reason } : {}),
          ...(by ? { closedBy: by } : {}),
          durationMs: Math.round(now() - connection.challengeTs),
        });
      }
      if (!connection.caller) {
        unauthenticated--;
        releaseBucket(connection);
      } else if (connection.caller.client && !QUIET_PRESENCE_MODES.has(connection.caller.client.mode)) {
        // Only the connection that wrote the row removes it: a device's older socket closing late must
        // not erase the row its newer socket holds.
        const key = presenceKey(connection);
        if (presenceOwners.get(key) !== connection) return;
        presenceOwners.delete(key);
        changePresence(() => presence.remove(key));
      }
    },
    dropped: (event) => notify((o) => o.eventDropped?.(event)),
  };
  const deviceTokens = new WeakMap<Connection, string | undefined>();
  const presenceOwners = new Map<string, Connection>();

  const releaseBucket = (connection: Connection) => {
    const bucket = bucketOf.get(connection);
    if (bucket === undefined) return;
    bucketOf.delete(connection);
    const left = (unauthenticatedFrom.get(bucket) ?? 1) - 1;
    if (left > 0) unauthenticatedFrom.set(bucket, left);
    else unauthenticatedFrom.delete(bucket);
  };

  const refusedGlobally = throttledWarning(
    logger,
    "rejecting upgrades: too many unauthenticated sockets",
    10_000,
    now,
  );
  const refusedPerAddress = throttledWarning(
    logger,
    "rejecting upgrades: too many unauthenticated sockets from one address",
    10_000,
    now,
  );

  bus.subscribe((event: BusEvent) => {
    const versions = event.event === "presence" || event.event === "health" ? { ...stateVersion } : undefined;
    for (const connection of connections) {
      if (!connection.ready) continue;
      if (event.connIds && !event.connIds.includes(connection.connId)) continue;
      if (event.scope && !scopeSatisfied(connection.caller!.scopes, event.scope)) continue;
      connection.sendEvent(event.event, event.payload, versions, event.dropIfSlow);
    }
  });

  const context: GatewayContext = {
    logger,
    bus,
    stores,
    env,
    secrets,
    now,
    config: () => config,
    onConfigChange(listener) {
      configListeners.add(listener);
      return () => configListeners.delete(listener);
    },
    registerMethod: (name, scope, handler) => registry.register(name, scope, handler),
    registerRoute: (route) => router.add(route),
    callMethod: (method, params, caller, signal) =>
      observed(
        method,
        () =>
          dispatch(caller, `internal:${newId()}`, method, params, signal ?? new AbortController().signal, {
            ack: () => {},
            sendEvent: () => {},
          }),
      ),
    prepareJsonResponse: (text, status, headers) =>
      preparedJsonResponse(text, options.transport?.cloneIsCheap === true, status, headers),
    async authenticateHttp(request, info) {
      const result = await authenticator.authenticateHttp(request, info);
      if (!result.ok) notify((o) => o.authFailure?.("http", String(result.response.status)));
      httpAuthOutcome.set(request, result.ok ? `ok:${result.caller.authMethod}` : "refused");
      return result;
    },
    clientAddress: (request, info) => clientAddress(info.remoteAddress, request.headers),
    onStop: (hook) => void stopHooks.push(hook),
    declareEvents: (names) => names.forEach((n) => events.add(n)),
    addHealthSection: (provider) => void healthSections.push(provider),
    addStatusSection: (provider) => void statusSections.push(provider),
    addReadinessCheck: (name, check) => void readinessChecks.set(name, check),
    async bumpStateVersion(key) {
      if (key !== "presence" && key !== "health") throw new Error(`unknown state version ${key}`);
      return noteVersions(await stores.stateVersions.bump(key))[key];
    },
    observe(observer) {
      observers.add(observer);
      return () => observers.delete(observer);
    },
    guardSockets: (guard) => void socketGuards.push(guard),
  };

  // Liveness probes poll these, and the answer never changes.
  const live = context.prepareJsonResponse(JSON.stringify({ ok: true, status: "live" }), 200, noStore);
  for (const path of ["/health", "/healthz"]) router.add({ path, methods: ["GET", "HEAD"], handler: live });
  const startup = () =>
    phase === "running"
      ? jsonResponse({ ok: true, status: "started" }, 200, noStore)
      : jsonResponse({ ok: false, status: phase === "stopping" ? "draining" : "starting" }, 503, noStore);
  // Ready = started and every module's check passing. Details (what fails, uptime) only for callers on
  // this machine: a remote anonymous prober learns no more than yes or no.
  const readiness = (request: Request, info: RequestInfo) => {
    const failing = phase === "running" ? [] : [`gateway:${phase === "stopping" ? "draining" : "starting"}`];
    for (const [name, check] of readinessChecks) {
      let reason: string | undefined;
      try {
        reason = check();
      } catch (error) {
        reason = String(error);
      }
      if (reason) failing.push(`${name}:${reason}`);
    }
    const ready = failing.length === 0;
    const body = isDirectLocal(info.remoteAddress, request.headers)
      ? { ready, failing, uptimeMs: Math.max(0, Math.round(now() - startedAt)), version: GATEWAY_VERSION }
      : { ok: ready, status: ready ? "ready" : "not-ready" };
    return jsonResponse(body, ready ? 200 : 503, noStore);
  };
  for (const path of ["/startup", "/startupz"]) {
    router.add({ path, methods: ["GET", "HEAD"], handler: startup });
  }
  for (const path of ["/ready", "/readyz"]) {
    router.add({ path, methods: ["GET", "HEAD"], handler: readiness });
  }

  const setup = () => {
    setupDone ??= (async () => {
      const modules = [
        systemModule({
          health,
          presence: () => presence.list(now()),
          uptimeMs: () => Math.round(now() - startedAt),
          connections: () => connections.size,
          authMode: () => auth.mode,
          address,
          methods: () => registry.names(),
          sections: () => statusSections.map((section) => section()),
        }, () => logTail),
        ...(options.modules ?? []),
      ];
      for (const module of modules) {
        await module.setup(context);
        logger.debug("module ready", { module: module.name });
      }
      setupComplete = true;
    })();
    return setupDone;
  };

  /** Adds `gateway.http.securityHeaders.strictTransportSecurity` when set (a string; `false` or unset: none). */
  /** The headers every answer carries besides the fixed security headers: HSTS, when configured. */
  const deploymentHeaders = (): Record<string, string> | undefined => {
    const value = config.gateway?.http?.securityHeaders?.strictTransportSecurity;
    return typeof value === "string" && value ? { "Strict-Transport-Security": value } : undefined;
  };

  /** Answers one HTTP request; the transports call it directly. */
  const serve = (request: Request, info: RequestInfo): Response | Promise<Response> => {
    const fail = (error: unknown) => {
      logger.error("http handler failed", { url: request.url, error: String(error) });
      const shape = toErrorShape(error);
      return redactResponse(
        jsonResponse({ error: { message: shape.message, type: "server_error" } }, 500),
        secrets,
      );
    };
    // Stays synchronous when setup is done and the route answers synchronously: every request pays
    // for each await here, and most gateway routes can answer at once.
    const answer = (): Response | Promise<Response> => {
      const logged = accessLogOn();
      const started = observers.size || logged ? now() : 0;
      const { route, response } = router.handle(request, info);
      const secure = (res: Response) => {
        const secured = withSecurityHeaders(res, deploymentHeaders());
        if (observers.size) notify((o) => o.http?.(route, request.method, secured.status, now() - started));
        // The path only: a query string may carry a credential (`?token=`), and the log never does.
        if (logged) {
          accessLog.info("http request", {
            method: request.method,
            path: accessLogPath(request.url),
            status: secured.status,
            durationMs: Math.round((now() - started) * 10) / 10,
            auth: httpAuthOutcome.get(request) ?? "none",
          });
        }
        return secured;
      };
      const finish = (res: Response) => {
        const clean = redactResponse(res, secrets);
        return clean instanceof Promise ? clean.then(secure) : secure(clean);
      };
      return response instanceof Promise ? response.then(finish, fail) : finish(response);
    };
    try {
      return setupComplete ? answer() : setup().then(answer).catch(fail);
    } catch (error) {
      return fail(error);
    }
  };

  const handler: GatewayServerHandler = {
    fetch: (request, info) => serve(request, info),
    admitUpgrade(request, info) {
      if (phase !== "running") {
        return textResponse(phase === "stopping" ? "Gateway stopping" : "Gateway starting", 503, {
          "Retry-After": "1",
        });
      }
      const who = attribute(info.remoteAddress, request.headers);
      if (who.unattributable) return proxyAttributionRefusal();
      if (unauthenticated >= maxUnauthenticated) {
        refusedGlobally({ limit: maxUnauthenticated });
        return textResponse("Too many unauthenticated sockets", 503, { "Retry-After": "1" });
      }
      const bucket = addressBucket(who.address);
      const perAddress = config.gateway?.limits?.maxUnauthenticatedPerAddress ??
        DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS;
      if ((unauthenticatedFrom.get(bucket) ?? 0) >= perAddress) {
        refusedPerAddress({ address: bucket, limit: perAddress });
        return textResponse(
          `Too many unauthenticated sockets from your address (limit ${perAddress}); complete the connect handshake on the open ones or retry later`,
          503,
          { "Retry-After": "1" },
        );
      }
      return null;
    },
    acceptSocket(wire: SocketWire, info: SocketInfo): SocketHandlers {
      unauthenticated++;
      const connection = new Connection(host, redactingWire(wire, secrets), info);
      connections.add(connection);
      const bucket = addressBucket(clientAddress(info.remoteAddress, info.headers));
      bucketOf.set(connection, bucket);
      unauthenticatedFrom.set(bucket, (unauthenticatedFrom.get(bucket) ?? 0) + 1);
      notify((o) => o.connection?.("open"));
      if (phase !== "running") connection.close(CloseCode.tryAgainLater, "gateway starting");
      const refusal = socketGuards.map((guard) => guard(info)).find(Boolean);
      if (refusal) connection.close(CloseCode.policyViolation, refusal);
      return connection;
    },
  };

  const gateway: Gateway = {
    handler,
    bus,
    logger,
    secrets,
    registerMethod: context.registerMethod,
    registerRoute: context.registerRoute,
    config: () => config,

    async start() {
      if (phase === "running") return address();
      if (phase !== "idle" && phase !== "stopped") {
        throw new GatewayError("UNAVAILABLE", `gateway is ${phase}`);
      }
      phase = "starting";
      try {
        const problem = authConfigProblem(auth);
        if (problem) throw new GatewayError("AUTH_NOT_CONFIGURED", problem);
        if (
          auth.mode === "trusted-proxy" && (!auth.trustedProxy || !config.gateway?.trustedProxies?.length)
        ) {
          logger.warn(
            "trusted-proxy auth refuses every request until gateway.auth.trustedProxy and gateway.trustedProxies are set",
          );
        }
        await setup();
        if (options.transport) {
          const hostname = options.hostname ??
            bindHostFor(config.gateway?.bind, config.gateway?.customBindHost);
          const port = options.port ?? config.gateway?.port ?? DEFAULT_PORT;
          if (!isLoopbackAddress(hostname) && auth.mode === "none") {
            throw new GatewayError(
              "BIND_WITHOUT_AUTH",
              `refusing to bind gateway to ${hostname}:${port} without auth; set gateway.auth.mode to token or password, or bind to loopback`,
            );
          }
          server = await options.transport.listen(handler, {
            tls: tlsFiles(config.gateway?.tls),
            hostname,
            port,
            headerTimeoutMs: options.limits?.headerTimeoutMs ?? config.gateway?.limits?.headerTimeoutMs,
            logger: logger.child("transport"),
          });
        }
        startedAt = now();
        await presence.upsert(`self:${selfId}`, selfPresence(), { pinned: true });
        tickTimer = setInterval(
          () => bus.publish({ event: "tick", payload: { ts: now() }, dropIfSlow: true }),
          tickIntervalMs,
        );
        phase = "running";
        logger.info("gateway listening", {
          ...address(),
          transport: options.transport?.name ?? "in-memory",
          auth: auth.mode,
        });
        return address();
      } catch (error) {
        phase = "stopped";
        throw error;
      }
    },

    async stop(stopOptions: StopOptions = {}) {
      if (phase === "stopped" || phase === "idle" || phase === "stopping") return;
      phase = "stopping";
      clearInterval(tickTimer);
      // New calls are refused from here on; calls already running get a bounded time to finish.
      await drain(options.timing?.drainTimeoutMs ?? DRAIN_TIMEOUT_MS);
      const payload: Record<string, unknown> = { reason: stopOptions.reason ?? "gateway stopping" };
      if (stopOptions.restartExpectedMs !== undefined) {
        payload.restartExpectedMs = stopOptions.restartExpectedMs;
      }
      for (const connection of [...connections]) {
        connection.sendEvent("shutdown", payload);
        // Closing ourselves with 1012 before the server stops: an aborted server would put 1005 on the wire.
        connection.close(CloseCode.serviceRestart, "service restart");
      }
      await server?.close();
      server = undefined;
      for (const hook of stopHooks.splice(0).reverse()) {
        try {
          await hook();
        } catch (error) {
          logger.error("stop hook failed", { error: String(error) });
        }
      }
      await presenceChanges;
      await presence.remove(`self:${selfId}`);
      phase = "stopped";
      logger.info("gateway stopped", { reason: payload.reason });
    },

    fetch: (request, info = { remoteAddress: "127.0.0.1" }) => Promise.resolve(serve(request, info)),

    updateConfig(next, source = {}) {
      const result = validateConfig(next);
      if (!result.ok) {
        logger.warn("config update rejected; keeping the running config", { issues: result.issues });
        return { ok: false, issues: result.issues };
      }
      let nextAuth: ResolvedAuth;
      try {
        nextAuth = resolveAuth(result.config.gateway?.auth, env);
      } catch (error) {
        // An unresolved SecretRef (an object where a string belongs) is a bad config, not a crash.
        const issues = [{ path: "gateway.auth", message: toErrorShape(error).message }];
        logger.warn("config update rejected; keeping the running config", { issues });
        return { ok: false, issues };
      }
      const problem = authConfigProblem(nextAuth);
      if (problem) return { ok: false, issues: [{ path: "gateway.auth", message: problem }] };
      const previous = config;
      config = result.config;
      auth = nextAuth;
      refreshSecrets();
      for (const listener of configListeners) {
        try {
          listener(config, previous);
        } catch (error) {
          logger.error("config listener failed", { error: String(error) });
        }
      }
      // Never the content: it may hold secrets, and clients re-read it with config.get if they care.
      bus.publish({ event: "config.changed", payload: { ...source, ts: now() }, scope: "operator.read" });
      return { ok: true };
    },

    async call(method, params = {}, caller = internalCaller) {
      await setup();
      return context.callMethod(method, params, caller);
    },

    state: {
      presence: () => presence.list(now()),
      health,
      uptimeMs: () => Math.round(now() - startedAt),
      stateVersion: async () => ({ ...noteVersions(await stores.stateVersions.current()) }),
      connections: () => connections.size,
      address,
    },
  };
  return gateway;
}

/** A wire whose outgoing frames have secret values replaced (frames are JSON documents). */
function redactingWire(wire: SocketWire, secrets: SecretRedactor): SocketWire {
  return {
    send: (text) => wire.send(secrets.redactJson(text)),
    close: (code, reason) => wire.close(code, secrets.redactText(reason)),
    bufferedAmount: () => wire.bufferedAmount(),
  };
}

/** How long `stop()` waits for in-flight calls by default. */
const DRAIN_TIMEOUT_MS = 10_000;

/** How long this host's interface addresses are reused before they are listed again. */
const HOST_ADDRESS_TTL_MS = 30_000;

const noStore = { "Cache-Control": "no-store" };

/** Longest path an access-log line carries; a hostile client's 64 KiB path must not become a 64 KiB line. */
const ACCESS_LOG_PATH_MAX = 256;

/** The request path for the access log: no query string (it may hold a credential), bounded in length. */
function accessLogPath(url: string): string {
  // Request URLs are absolute (`scheme://host/path?query`); slicing avoids a URL parse per request.
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const end = url.search(/[?#]/);
  const path = start === -1 ? "/" : url.slice(start, end === -1 || end < start ? undefined : end);
  return path.length > ACCESS_LOG_PATH_MAX ? `${path.slice(0, ACCESS_LOG_PATH_MAX)}…` : path;
}

/**
 * A presence row belongs to an authenticated identity: a device (proved by its key) has one row; a
 * client without a device only ever owns its connection's row, because its `instanceId` is a claim
 * anyone can copy and must not let one client replace or remove another's row.
 */
function presenceKey(connection: Connection): string {
  const caller = connection.caller;
  return caller?.deviceId ? `device:${caller.deviceId}` : `conn:${connection.connId}`;
}

function connectionPresence(connection: Connection, reason: string, ts: number): PresenceEntry {
  const caller = connection.caller!;
  const client = caller.client!;
  const name = client.displayName ?? client.id;
  const entry: PresenceEntry = {
    host: name,
    version: client.version,
    platform: client.platform,
    deviceFamily: client.deviceFamily,
    modelIdentifier: client.modelIdentifier,
    mode: client.mode,
    reason,
    deviceId: caller.deviceId,
    roles: [caller.role],
    scopes: [...caller.scopes],
    instanceId: client.instanceId,
    text: `${name} · ${client.mode} · ${reason}`,
    ts,
  };
  if (!isLoopbackAddress(connection.info.remoteAddress)) entry.ip = connection.info.remoteAddress;
  for (const key of Object.keys(entry) as (keyof PresenceEntry)[]) {
    if (entry[key] === undefined || entry[key] === "") delete entry[key];
  }
  return entry;
}
