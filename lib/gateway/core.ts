/**
 * What every part of a gateway shares: clock and ids, the logger and secret redactor, the validated
 * config and auth, the stores, the method and route tables, the open connections, what modules
 * registered, and the mutable run state. {@link createCore} builds it once; each part takes the fields
 * it uses.
 *
 * @module
 */
import { resolveAuth, type ResolvedAuth } from "../auth/shared-secret.ts";
import { SocketTopics } from "../bus/topics.ts";
import { completeStores, type GatewayStores } from "../state/stores.ts";
import { type GatewayConfig, validateConfig } from "../config/schema.ts";
import { GatewayError } from "../errors.ts";
import { HttpRouter } from "../http/router.ts";
import { createLogger, type Logger, type LogSink, MemoryLogSink } from "../log/logger.ts";
import { collectSecretValues, SecretRedactor } from "../log/secret-redactor.ts";
import { type LogTailSource, MemoryLogTail } from "../log/tail.ts";
import { MethodRegistry } from "../methods/registry.ts";
import { ServiceDirectory } from "../services.ts";
import type { StateVersions } from "../state/state-version.ts";
import type { ListeningServer } from "../transports/types.ts";
import type { ClientListener, HttpAuthenticator, SocketGuard, StatusView } from "../types.ts";
import type { Connection } from "../ws/connection.ts";
import { createObservers, type Observers } from "./observers.ts";
import type { GatewayOptions } from "./types.ts";

/** Where the gateway is in its life; `start()` and `stop()` move it on. */
export type Phase = "idle" | "starting" | "running" | "stopping" | "stopped";

/** The gateway's mutable state, read through this object so every part sees the current value. */
export interface GatewayState {
  /** The config in force (replaced on a hot reload). */
  config: GatewayConfig;
  /** The auth resolved from that config and the environment. */
  auth: ResolvedAuth;
  /** Where start/stop have got to. */
  phase: Phase;
  /** When the gateway last started; uptime counts from here. */
  startedAt: number;
  /** The listening server, while there is one. */
  server?: ListeningServer;
}

/** What modules registered through the context, for the parts that consult it. */
export interface Extensions {
  /** Keys added to the health snapshot. */
  readonly healthSections: (() => Record<string, unknown> | Promise<Record<string, unknown>>)[];
  /** Keys added to `hello-ok.snapshot`. */
  readonly snapshotSections: (() => Record<string, unknown>)[];
  /** Keys added to the `status` result. */
  readonly statusSections:
    ((view: StatusView) => Record<string, unknown> | Promise<Record<string, unknown>>)[];
  /** Named checks `/ready` runs. */
  readonly readinessChecks: Map<string, () => string | undefined>;
  /** Called after each applied config change. */
  readonly configListeners: Set<(next: GatewayConfig, prev: GatewayConfig) => void>;
  /** Run last-first when the gateway stops. */
  readonly stopHooks: (() => void | Promise<void>)[];
  /** Checks every new socket must pass. */
  readonly socketGuards: SocketGuard[];
  /** Told when a socket authenticates (before its `hello-ok`) and when it closes. */
  readonly clientListeners: Set<ClientListener>;
}

/** The shared pieces of one gateway; see the module doc. */
export interface GatewayCore {
  /** The mutable run state. */
  readonly state: GatewayState;
  /** The gateway's clock (ms). */
  readonly now: () => number;
  /** Makes connection, request and token ids. */
  readonly newId: () => string;
  /** The environment the host passed (never the process's). */
  readonly env: Record<string, string | undefined>;
  /** The root logger; its sinks get records with secrets replaced. */
  readonly logger: Logger;
  /** Hides every resolved secret value in what leaves the process. */
  readonly secrets: SecretRedactor;
  /** Serves `logs.tail`. */
  readonly logTail: LogTailSource;
  /** The shared-state seams (in process unless the embedder passed shared ones), the event bus among them. */
  readonly stores: GatewayStores;
  /** Topic subscriptions of this process's sockets (session events find their sockets through them). */
  readonly topics: SocketTopics;
  /** The methods, with their scopes. */
  readonly registry: MethodRegistry;
  /** Services modules provide to each other (`GatewayContext.provide`/`service`). */
  readonly services: ServiceDirectory;
  /** The HTTP routes. */
  readonly router: HttpRouter;
  /**
   * How routes that declare `auth: "gateway"` are checked: the context's `authenticateHttp` (which counts
   * refusals and records the outcome for the access log), set once the context exists.
   */
  readonly httpAuth: { check: HttpAuthenticator };
  /** Event names `hello-ok` advertises; modules add theirs. */
  readonly events: Set<string>;
  /** What modules registered through the context. */
  readonly extensions: Extensions;
  /** Every open socket, authenticated or not. */
  readonly connections: Set<Connection>;
  /** Metrics-style observers and the helpers that report to them. */
  readonly observers: Observers;
  /** Versions `presence` and `health` events and `hello-ok` carry. */
  readonly stateVersion: StateVersions;
  /**
   * Takes in counters read from the store (the authority): the local copy keeps the newest seen, and is
   * what `presence`/`health` events are stamped with as they fan out. Returns the copy.
   */
  noteVersions(seen: Partial<StateVersions>): StateVersions;
  /** This boot's id: `hello-ok.server.bootId` and the gateway's own presence row. */
  readonly selfId: string;
  /** Rebuilds the secret redactor from the current config and auth and the host's values. */
  refreshSecrets(): void;
}

const BASE_EVENTS = [
  "connect.challenge",
  "tick",
  "shutdown",
  "presence",
  "health",

  "config.changed",
];

/** Builds the shared pieces from the options; throws `CONFIG_INVALID` for a config that fails validation. */
export function createCore(options: GatewayOptions): GatewayCore {
  const now = options.now ?? (() => Date.now());
  const newId = options.newId ?? (() => crypto.randomUUID());
  const env = options.env ?? {};
  const secrets = new SecretRedactor();
  const { logger, logTail } = redactedLogging(options, secrets, now);
  const config = initialConfig(options.config);
  const state: GatewayState = {
    config,
    auth: resolveAuth(config.gateway?.auth, env),
    phase: "idle",
    startedAt: now(),
  };
  const refreshSecrets = () => {
    const values = collectSecretValues(state.config, env);
    for (const value of [state.auth.token, state.auth.password, ...(options.secretValues?.() ?? [])]) {
      if (value) values.add(value);
    }
    secrets.update(values);
  };
  refreshSecrets();
  const stores = completeStores(options.stores, {
    now,
    onListenerError: (e) => logger.error("event listener failed", { error: String(e) }),
  });
  const topics = new SocketTopics();
  const registry = new MethodRegistry({ checkResults: options.checkResults });
  const services = new ServiceDirectory();
  const httpAuth: GatewayCore["httpAuth"] = {
    check: () => {
      throw new Error("HTTP authentication used before the gateway context was created");
    },
  };
  const router = new HttpRouter({ authenticate: (...args) => httpAuth.check(...args) });
  const events = new Set(BASE_EVENTS);
  const connections = new Set<Connection>();
  const observers = createObservers({ logger, now, registry });
  const stateVersion: StateVersions = { presence: 1, health: 1 };
  // Updated in place: fan-out holds this object.
  const noteVersions = (seen: Partial<StateVersions>) => {
    stateVersion.presence = Math.max(stateVersion.presence, seen.presence ?? 0);
    stateVersion.health = Math.max(stateVersion.health, seen.health ?? 0);
    return stateVersion;
  };
  const selfId = newId();
  return {
    state,
    now,
    newId,
    env,
    logger,
    secrets,
    logTail,
    stores,
    topics,
    registry,
    services,
    router,
    httpAuth,
    events,
    extensions: {
      healthSections: [],
      snapshotSections: [],
      statusSections: [],
      readinessChecks: new Map(),
      configListeners: new Set(),
      stopHooks: [],
      socketGuards: [],
      clientListeners: new Set(),
    },
    connections,
    observers,
    stateVersion,
    noteVersions,
    selfId,
    refreshSecrets,
  };
}

/** The gateway's logger: every sink (the `logs.tail` buffer included) gets records with secrets replaced. */
function redactedLogging(
  options: GatewayOptions,
  secrets: SecretRedactor,
  now: () => number,
): { logger: Logger; logTail: LogTailSource } {
  // The in-memory buffer only serves `logs.tail` when the host gives no tail of its own (the runner tails
  // its file): filling it anyway would keep the last 2,000 records alive for nothing.
  const memoryLog = options.logTail ? undefined : new MemoryLogSink();
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
  return { logger, logTail };
}

/** The validated starting config; a config that fails validation stops the gateway being built. */
function initialConfig(config: unknown): GatewayConfig {
  const initial = validateConfig(config ?? {});
  if (!initial.ok) {
    const first = initial.issues[0];
    throw new GatewayError("CONFIG_INVALID", `invalid config at ${first.path}: ${first.message}`, {
      details: { issues: initial.issues },
    });
  }
  return initial.config;
}

/** Where the gateway listens, while it does. */
export function listeningAddress(state: GatewayState): { hostname: string; port: number } | undefined {
  return state.server ? { hostname: state.server.hostname, port: state.server.port } : undefined;
}
