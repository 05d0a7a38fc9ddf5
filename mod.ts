/**
 * openclaw-gateway-ts: an OpenClaw Gateway (protocol v4) you can embed.
 *
 * ```ts
 * import { createGateway, denoTransport } from "@openclaw-ts/gateway";
 * const gateway = createGateway({ transport: denoTransport(), config: { gateway: { auth: { token: "s3cret" } } } });
 * await gateway.start();
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
  CallerIdentity,
  ClientInfo,
  EventBus,
  GatewayContext,
  GatewayModule,
  GatewayObserver,
  HttpAuthResult,
  HttpRoute,
  MethodCall,
  MethodHandler,
  RequestInfo,
  SocketGuard,
  SocketRequestInfo,
} from "./lib/types.ts";
export { type ErrorCode, type ErrorShape, GatewayError } from "./lib/errors.ts";
export { type MethodScope, OPERATOR_SCOPES, type Scope, scopeSatisfied } from "./lib/protocol/scopes.ts";
export { PROTOCOL_VERSION } from "./lib/protocol/constants.ts";
export { type ConfigIssue, type GatewayConfig, validateConfig } from "./lib/config/schema.ts";
export type {
  AuthMode,
  ControlUiConfig,
  GatewayAuthConfig,
  GatewayHttpConfig,
  GatewayLimitsConfig,
  GatewayReloadConfig,
  GatewaySection,
  GatewayTlsConfig,
  GatewayTransportConfig,
  RateLimitConfig,
  TrustedProxyAuthConfig,
} from "./lib/config/sections/gateway.ts";
export type { SessionVisibility, ToolPolicy, ToolsSection } from "./lib/config/sections/tools.ts";
export { SecretRedactor } from "./lib/log/secret-redactor.ts";
export type { JsonDocs } from "./lib/state/json-docs.ts";
export {
  createLogger,
  formatPretty,
  type Logger,
  type LogLevel,
  type LogRecord,
  type LogSink,
  MemoryLogSink,
} from "./lib/log/logger.ts";
export type { LogsTailParams, LogsTailResult, LogTailSource } from "./lib/log/tail.ts";
export type { ListeningServer, ListenOptions, TlsFiles, Transport } from "./lib/transports/types.ts";
export { type DenoEngine, denoTransport, type DenoTransportOptions } from "./lib/transports/deno.ts";
export { nodeTransport } from "./lib/transports/node.ts";
export {
  type Frame,
  type MemorySocket,
  type MemorySocketOptions,
  openMemorySocket,
} from "./lib/transports/memory.ts";
export { InProcessEventBus } from "./lib/bus/event-bus.ts";
export { MemoryPresenceStore, type PresenceEntry, type PresenceStore } from "./lib/state/presence.ts";
export { type IdempotencyStore, MemoryIdempotencyStore } from "./lib/state/idempotency.ts";
export { type DeviceStore, MemoryDeviceStore, type PairedDevice } from "./lib/state/devices.ts";
export { GATEWAY_VERSION } from "./lib/version.ts";

// Agents, model providers, sessions and the OpenAI-compatible HTTP API.
export * from "./lib/agents/mod.ts";

// A small protocol v4 client (what the CLI uses), for apps that talk to a gateway.
export {
  connectGateway,
  type ConnectOptions,
  type GatewayConnection,
  type RequestOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./lib/client/connection.ts";
export { type ClientErrorKind, GatewayClientError } from "./lib/client/errors.ts";

// Tools and POST /tools/invoke.
export * from "./lib/tools/mod.ts";

// Prometheus metrics, channels (webhook, Telegram), hooks and the Control UI.
export * from "./lib/metrics/mod.ts";
export * from "./lib/channels/mod.ts";
export * from "./lib/hooks/mod.ts";
export * from "./lib/ui/mod.ts";
