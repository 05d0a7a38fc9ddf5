/**
 * The `gateway` section of `openclaw.json`. Unknown keys are kept (loose objects) so a config written
 * for OpenClaw's gateway loads here unchanged.
 *
 * @module
 */
import { z } from "zod";

/** How clients prove they are the owner. */
export type AuthMode = "token" | "password" | "trusted-proxy" | "none";

/** Failed-auth backoff per client IP. */
export interface RateLimitConfig {
  maxAttempts?: number;
  windowMs?: number;
  lockoutMs?: number;
  exemptLoopback?: boolean;
  [key: string]: unknown;
}

/** Identity-aware reverse proxy settings for `auth.mode: "trusted-proxy"`. */
export interface TrustedProxyAuthConfig {
  userHeader?: string;
  requiredHeaders?: string[];
  allowUsers?: string[];
  [key: string]: unknown;
}

/** `gateway.auth`. Secrets may be plain strings or SecretRefs resolved by the runner. */
export interface GatewayAuthConfig {
  mode?: AuthMode;
  token?: unknown;
  password?: unknown;
  trustedProxy?: TrustedProxyAuthConfig;
  rateLimit?: RateLimitConfig;
  [key: string]: unknown;
}

/** `gateway.controlUi`. */
export interface ControlUiConfig {
  enabled?: boolean;
  basePath?: string;
  allowedOrigins?: string[];
  [key: string]: unknown;
}

/** `gateway.http`. */
export interface GatewayHttpConfig {
  securityHeaders?: { strictTransportSecurity?: string | false; [key: string]: unknown };
  endpoints?: {
    chatCompletions?: { enabled?: boolean; [key: string]: unknown };
    responses?: { enabled?: boolean; [key: string]: unknown };
    embeddings?: { enabled?: boolean; [key: string]: unknown };
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** `gateway.reload`: how config edits reach a running gateway. */
export interface GatewayReloadConfig {
  mode?: "off" | "hot" | "restart" | "hybrid";
  debounceMs?: number;
  [key: string]: unknown;
}

/** `gateway.limits`: bounds on what one client can hold. */
export interface GatewayLimitsConfig {
  headerTimeoutMs?: number;
  [key: string]: unknown;
}

/** `gateway.tls`: HTTPS/WSS on the gateway's own port. */
export interface GatewayTlsConfig {
  enabled?: boolean;
  certPath?: string;
  keyPath?: string;
  [key: string]: unknown;
}

/** The whole `gateway` section. */
export interface GatewaySection {
  mode?: "local" | "remote";
  port?: number;
  bind?: "loopback" | "lan" | "tailnet" | "auto" | "custom";
  customBindHost?: string;
  auth?: GatewayAuthConfig;
  trustedProxies?: string[];
  allowRealIpFallback?: boolean;
  controlUi?: ControlUiConfig;
  http?: GatewayHttpConfig;
  reload?: GatewayReloadConfig;
  tools?: { allow?: string[]; deny?: string[]; [key: string]: unknown };
  remote?: { url?: string; token?: unknown; password?: unknown; [key: string]: unknown };
  limits?: GatewayLimitsConfig;
  tls?: GatewayTlsConfig;
  [key: string]: unknown;
}

const enabledFlag = z.looseObject({ enabled: z.boolean().optional() });

/** Validates the `gateway` section. */
export const GatewaySectionSchema: z.ZodType<GatewaySection> = z.looseObject({
  mode: z.enum(["local", "remote"]).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  bind: z.enum(["loopback", "lan", "tailnet", "auto", "custom"]).optional(),
  customBindHost: z.string().optional(),
  auth: z.looseObject({
    mode: z.enum(["token", "password", "trusted-proxy", "none"]).optional(),
    token: z.unknown().optional(),
    password: z.unknown().optional(),
    trustedProxy: z.looseObject({
      userHeader: z.string().optional(),
      requiredHeaders: z.array(z.string()).optional(),
      allowUsers: z.array(z.string()).optional(),
    }).optional(),
    rateLimit: z.looseObject({
      maxAttempts: z.number().int().positive().optional(),
      windowMs: z.number().int().positive().optional(),
      lockoutMs: z.number().int().nonnegative().optional(),
      exemptLoopback: z.boolean().optional(),
    }).optional(),
  }).optional(),
  trustedProxies: z.array(z.string()).optional(),
  allowRealIpFallback: z.boolean().optional(),
  controlUi: z.looseObject({
    enabled: z.boolean().optional(),
    basePath: z.string().optional(),
    allowedOrigins: z.array(z.string()).optional(),
  }).optional(),
  http: z.looseObject({
    /** The HSTS header value to send (only for HTTPS origins you control); unset or false sends none. */
    securityHeaders: z.looseObject({
      strictTransportSecurity: z.union([z.string(), z.literal(false)]).optional(),
    }).optional(),
    endpoints: z.looseObject({
      chatCompletions: enabledFlag.optional(),
      responses: enabledFlag.optional(),
      embeddings: enabledFlag.optional(),
    }).optional(),
  }).optional(),
  reload: z.looseObject({
    mode: z.enum(["off", "hot", "restart", "hybrid"]).optional(),
    debounceMs: z.number().int().nonnegative().optional(),
  }).optional(),
  tools: z.looseObject({
    allow: z.array(z.string()).optional(),
    deny: z.array(z.string()).optional(),
  }).optional(),
  remote: z.looseObject({
    url: z.string().optional(),
    token: z.unknown().optional(),
    password: z.unknown().optional(),
  }).optional(),
  limits: z.looseObject({
    /** Closes connections that have not sent complete request headers in time (default 10 s), idle keep-alive included. */
    headerTimeoutMs: z.number().int().positive().optional(),
  }).optional(),
  /** Serves HTTPS/WSS from certPath/keyPath (PEM) when enabled (default off); other reference keys are kept. */
  tls: z.looseObject({
    enabled: z.boolean().optional(),
    certPath: z.string().optional(),
    keyPath: z.string().optional(),
  }).optional(),
});
