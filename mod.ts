/**
 * openclaw-gateway-ts: an OpenClaw Gateway (protocol v4) you can embed. This entry point is the
 * runtime-agnostic core plus the in-memory transport; it loads no `node:` module and no `ws`. Put the
 * gateway on the network with `@openclaw-ts/gateway/deno` or `@openclaw-ts/gateway/node`, keep sessions on
 * disk with `@openclaw-ts/gateway/stores/jsonl`.
 *
 * @example Call a method of your own over the in-memory transport
 * ```ts
 * import { z } from "zod";
 * import { createGateway, defineMethod, memoryTransport } from "@openclaw-ts/gateway";
 *
 * const transport = memoryTransport();
 * const gateway = createGateway({ transport, config: { gateway: { auth: { token: "s3cret" } } } });
 * gateway.registerMethod(defineMethod({
 *   name: "app.greet",
 *   scope: "operator.read",
 *   params: z.strictObject({ name: z.string().min(1) }),
 *   handler: ({ params }) => ({ hello: params.name }),
 * }));
 * await gateway.start();
 *
 * const health = await transport.fetch("/health");
 * if (health.status !== 200) throw new Error(`/health answered ${health.status}`);
 * await health.body?.cancel();
 *
 * const socket = transport.connect();
 * await socket.next(); // connect.challenge
 * socket.send({
 *   type: "req",
 *   id: "1",
 *   method: "connect",
 *   params: {
 *     minProtocol: 4,
 *     maxProtocol: 4,
 *     client: { id: "cli", mode: "cli", version: "1.0.0", platform: "linux" },
 *     auth: { token: "s3cret" },
 *     scopes: ["operator.read"],
 *   },
 * });
 * await socket.waitFor((frame) => frame.id === "1"); // hello-ok
 * socket.send({ type: "req", id: "2", method: "app.greet", params: { name: "world" } });
 * const answer = await socket.waitFor((frame) => frame.id === "2");
 * if (JSON.stringify(answer.payload) !== '{"hello":"world"}') throw new Error(JSON.stringify(answer));
 * await gateway.stop();
 * ```
 *
 * @module
 */
export {
  type ConfigUpdateResult,
  createGateway,
  type Gateway,
  type GatewayOptions,
  type StopOptions,
} from "./lib/gateway.ts";
export type {
  BusEvent,
  ClientConnectParams,
  ClientListener,
  ConnectedClient,
  EventBus,
  GatewayContext,
  GatewayModule,
  GatewayObserver,
  HttpAuthenticator,
  HttpAuthOptions,
  HttpAuthResult,
  HttpHandler,
  HttpRoute,
  HttpRouteAuth,
  LoopDelayStats,
  PreparedResponse,
  PublishGuard,
  RequestInfo,
  SocketGuard,
  SocketRequestInfo,
  StatusView,
} from "./lib/types.ts";
export {
  type AnyMethod,
  anyParams,
  type CallerIdentity,
  type ClientInfo,
  defineMethod,
  type MethodCall,
  type MethodDescriptor,
  type ValidatedCall,
} from "./lib/methods/descriptor.ts";
export { type LazyMethod, lazyMethods } from "./lib/methods/lazy.ts";
export type {
  InferInput,
  InferOutput,
  StandardSchemaIssue,
  StandardSchemaProps,
  StandardSchemaResult,
  StandardSchemaV1,
} from "./lib/methods/standard-schema.ts";
export { ServiceDirectory, type ServiceKey, serviceKey } from "./lib/services.ts";
export { type ConfigHost, type ConfigMethodsOptions, configModule } from "./lib/methods/config.ts";
export type { ConfigDocumentHost, ConfigSourceFactory } from "./lib/methods/config-document.ts";
export { secretsModule, type SecretsReloadOutcome } from "./lib/methods/secrets.ts";
export {
  type ConfigRevision,
  ConfigWriteError,
  type ConfigWriter,
  type ConfigWriteRefusal,
  memoryConfigWriter,
  sha256Hex,
} from "./lib/config/writer.ts";
export { type ErrorCode, type ErrorShape, GatewayError } from "./lib/errors.ts";
export {
  type MethodScope,
  NODE_ROLE_SCOPE,
  OPERATOR_SCOPES,
  type Scope,
  scopeSatisfied,
} from "./lib/protocol/scopes.ts";
export { PROTOCOL_VERSION } from "./lib/protocol/constants.ts";
export {
  type ConfigIssue,
  type ConfigValidation,
  type GatewayConfig,
  validateConfig,
} from "./lib/config/schema.ts";
export type { ConfigLogLevel, LoggingSection } from "./lib/config/sections/logging.ts";
export type { SecretProviderConfig, SecretSource, SecretsSection } from "./lib/config/sections/secrets.ts";
export {
  ConfigLoadError,
  type ConfigSnapshot,
  type ConfigSource,
  envConfigSource,
  layeredConfigSource,
  loadConfig,
  type LoadedConfig,
  objectConfigSource,
} from "./lib/config/source.ts";
export type {
  AuthMode,
  ControlUiConfig,
  GatewayAuthConfig,
  GatewayClusterConfig,
  GatewayHttpConfig,
  GatewayLimitsConfig,
  GatewayNodesConfig,
  GatewayReloadConfig,
  GatewaySection,
  GatewayTlsConfig,
  GatewayTransportConfig,
  RateLimitConfig,
  TrustedProxyAuthConfig,
} from "./lib/config/sections/gateway.ts";
export type {
  ExecAsk,
  ExecAskFallback,
  ExecPolicy,
  SessionVisibility,
  ToolPolicy,
  ToolsSection,
} from "./lib/config/sections/tools.ts";
export { SecretRedactor } from "./lib/log/secret-redactor.ts";
export { type DocChange, type JsonDocs, MemoryJsonDocs } from "./lib/state/json-docs.ts";
export {
  createLogger,
  formatPretty,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type LogRecord,
  type LogSink,
  MemoryLogSink,
} from "./lib/log/logger.ts";
export type { LogsTailParams, LogsTailResult, LogTailSource } from "./lib/log/tail.ts";

// The transport seam: what a transport gets (a handler) and gives (a listener); enough to write one.
export type { ListeningServer, ListenOptions, TlsFiles, Transport } from "./lib/transports/types.ts";
export type { GatewayServerHandler, SocketHandlers, SocketInfo, SocketWire } from "./lib/ws/wire.ts";
export type { PreparedEventFrame } from "./lib/protocol/frames.ts";
export {
  type Frame,
  type MemoryRequestInit,
  type MemorySocket,
  type MemorySocketOptions,
  type MemoryTransport,
  memoryTransport,
  openMemorySocket,
} from "./lib/transports/memory.ts";
export { InProcessEventBus } from "./lib/bus/event-bus.ts";
export { SocketTopics } from "./lib/bus/topics.ts";
export { type LeaseStore, MemoryLeaseStore } from "./lib/state/leases.ts";
export { MemoryPeerRegistry, type PeerRecord, type PeerRegistry } from "./lib/state/peers.ts";
export {
  type ClusterBackend,
  clusterModule,
  type ClusterModuleOptions,
  type ClusterStatus,
} from "./lib/cluster/cluster-module.ts";
export {
  runSingleton,
  type Singleton,
  SINGLETON_LEASE_TTL_MS,
  type SingletonOptions,
} from "./lib/state/singleton.ts";
export {
  MemoryResponseSessionStore,
  type ResponseSession,
  type ResponseSessionStore,
} from "./lib/state/response-sessions.ts";
export {
  MemoryPresenceStore,
  type PresenceEntry,
  type PresenceStore,
  type PresenceWriteOptions,
} from "./lib/state/presence.ts";
export { MemoryNodeStore, NODE_ROW_TTL_MS, type NodeSession, type NodeStore } from "./lib/state/nodes.ts";
export {
  MemorySystemEventStore,
  SYSTEM_EVENTS_CAP,
  type SystemEventStore,
} from "./lib/state/system-events.ts";
export {
  MemoryTurnQueue,
  type MoveResult,
  type QueuedTurn,
  type TurnDelivery,
  type TurnQueue,
} from "./lib/state/turn-queue.ts";
export {
  CLAIM_WON,
  type ClaimGuard,
  IDEMPOTENCY_TTL_MS,
  type IdempotencyClaim,
  IdempotencyConflict,
  type IdempotencyStore,
  MemoryIdempotencyStore,
} from "./lib/state/idempotency.ts";
export {
  type DeviceAuthToken,
  type DeviceStore,
  MemoryDeviceStore,
  type NodeSurface,
  type NodeSurfaceFacts,
  type PairedDevice,
  type PairingClientFacts,
  type PairingRequestOutcome,
  PENDING_PAIRING_TTL_MS,
  type PendingNodeSurface,
  type PendingPairing,
} from "./lib/state/devices.ts";
export { DEVICE_PAIRING_DOC, DocsDeviceStore } from "./lib/state/device-docs.ts";
export {
  type ApprovalDecision,
  type ApprovalResolution,
  type ExecApprovalRecord,
  type ExecApprovalStore,
  MemoryExecApprovalStore,
  RESOLVED_APPROVAL_RETAIN_MS,
} from "./lib/state/exec-approvals.ts";
export {
  MemoryRateLimitStore,
  type RateLimitPolicy,
  type RateLimitState,
  type RateLimitStore,
  type RateLimitVerdict,
} from "./lib/state/rate-limit.ts";
export {
  MemoryStateVersionStore,
  type StateVersions,
  type StateVersionStore,
} from "./lib/state/state-version.ts";
export {
  completeStores,
  type GatewayStores,
  memoryStores,
  type MemoryStoresOptions,
  type StoresBackend,
} from "./lib/state/stores.ts";
export { GATEWAY_VERSION } from "./lib/version.ts";

// Agents, model providers, sessions and the OpenAI-compatible HTTP API.
export * from "./lib/agents/mod.ts";
export {
  openAiEndpointsEnabled,
  openAiHttpModule,
  type OpenAiHttpModuleOptions,
} from "./lib/http/openai/openai-module.ts";

// A small protocol v4 client (what the CLI uses), for apps that talk to a gateway.
export {
  type ClientDevice,
  connectGateway,
  type ConnectOptions,
  type GatewayConnection,
  type RequestOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./lib/client/connection.ts";
export type { ClientIdentity, EventFrame, HelloOk } from "./lib/client/frames.ts";
export { type ClientErrorKind, GatewayClientError } from "./lib/client/errors.ts";

// Tools and POST /tools/invoke.
export * from "./lib/tools/mod.ts";

// Nodes (role "node" clients) and their commands as agent tools.
export * from "./lib/nodes/mod.ts";

// Prometheus metrics, channels (webhook, Telegram), hooks and the Control UI.
export * from "./lib/metrics/mod.ts";
export * from "./lib/channels/mod.ts";
export * from "./lib/hooks/mod.ts";
export * from "./lib/ui/mod.ts";
export * from "./lib/cron/mod.ts";
