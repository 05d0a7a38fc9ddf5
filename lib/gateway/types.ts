/**
 * The public shapes of a gateway: {@link GatewayOptions} in, {@link Gateway} out. `lib/gateway.ts`
 * re-exports them with `createGateway`.
 *
 * @module
 */
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger, LogLevel, LogSink } from "../log/logger.ts";
import type { SecretRedactor } from "../log/secret-redactor.ts";
import type { LogTailSource } from "../log/tail.ts";
import type { PresenceEntry } from "../state/presence.ts";
import type { GatewayStores } from "../state/stores.ts";
import type { StateVersions } from "../state/state-version.ts";
import type { Transport } from "../transports/types.ts";
import type {
  CallerIdentity,
  EventBus,
  GatewayContext,
  GatewayModule,
  HttpRoute,
  RequestInfo,
} from "../types.ts";
import type { GatewayServerHandler } from "../ws/wire.ts";

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
  /** Where log records go, secrets already replaced; none by default (only the `logs.tail` buffer). */
  logSinks?: LogSink[];
  /** The lowest level logged; `info` by default. */
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
  stores?: Partial<GatewayStores>;
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
  /** The gateway clock in ms since the epoch (tests pin it); `Date.now` by default. */
  now?: () => number;
  /** Makes connection, request and instance ids; `crypto.randomUUID` by default. */
  newId?: () => string;
  /** Fails any call whose result does not match its method's `result` schema (tests; a parse per call). */
  checkResults?: boolean;
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
  /** Where events for clients are published; the same bus modules get as `context.bus`. */
  readonly bus: EventBus;
  /** The gateway's structured logger (secret values are redacted before any sink sees a record). */
  readonly logger: Logger;
  /** Hides every resolved secret value in what leaves the process; rebuilt on config changes. */
  readonly secrets: SecretRedactor;
  /** Adds a method, as {@link GatewayContext.registerMethod} does. */
  registerMethod: GatewayContext["registerMethod"];
  /** Adds an HTTP route, as {@link GatewayContext.registerRoute} does; an exact path may be added once. */
  registerRoute(route: HttpRoute): void;
  /**
   * Applies a new config without restarting; a config that fails validation is rejected and the old one
   * kept. `source` (where it came from, its digest) goes into the `config.changed` event clients get.
   */
  updateConfig(next: unknown, source?: { path?: string; hash?: string }): ConfigUpdateResult;
  /** The validated config in force (the last accepted {@link Gateway.updateConfig}, or the initial one). */
  config(): GatewayConfig;
  /** Invokes a method in-process as `caller` (defaults to a full-scope internal caller). */
  call(method: string, params?: unknown, caller?: CallerIdentity): Promise<unknown>;
  /** Read-only views of the running gateway, for hosts, probes and tests. */
  readonly state: {
    /** The presence rows clients see (`system-presence`): the gateway itself and connected clients. */
    presence(): Promise<PresenceEntry[]>;
    /** The health snapshot the `health` method and `hello-ok.snapshot.health` report. */
    health(): Promise<Record<string, unknown>>;
    /** Milliseconds since the gateway was created, on its clock. */
    uptimeMs(): number;
    /** The current state versions (`presence`, `health`, ...) that clients use to order snapshots. */
    stateVersion(): Promise<StateVersions>;
    /** How many sockets this process holds open, handshake done or not. */
    connections(): number;
    /** Where the transport listens between `start()` and `stop()`; `undefined` otherwise or without one. */
    address(): { hostname: string; port: number } | undefined;
  };
}
