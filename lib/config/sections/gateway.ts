/**
 * The `gateway` section of `openclaw.json`. Unknown keys are kept (loose objects) so a config written
 * for OpenClaw's gateway loads here unchanged.
 *
 * @module
 */
import * as z from "zod";
import { parseCidr } from "../../net/ip.ts";
import { OPERATOR_SCOPES } from "../../protocol/scopes.ts";

/** How clients prove they are the owner. */
export type AuthMode = "token" | "password" | "trusted-proxy" | "none";

/** Failed-auth backoff per client IP. */
export interface RateLimitConfig {
  /** Wrong credentials allowed per window before the lockout (10). */
  maxAttempts?: number;
  /** The window failures are counted in (60 s). */
  windowMs?: number;
  /** How long a locked-out client waits (300 s). */
  lockoutMs?: number;
  /** Whether direct local callers (loopback, no forwarding headers) skip the lockout (true). */
  exemptLoopback?: boolean;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** Identity-aware reverse proxy settings for `auth.mode: "trusted-proxy"`. */
export interface TrustedProxyAuthConfig {
  /** The header that names the user (`x-forwarded-user`). */
  userHeader?: string;
  /** Headers the proxy must also set, or the request is refused. */
  requiredHeaders?: string[];
  /** Users admitted; empty admits anyone the proxy names. */
  allowUsers?: string[];
  /** Whether a proxy on loopback is accepted (false). */
  allowLoopback?: boolean;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** `gateway.auth`. Secrets may be plain strings or SecretRefs resolved by the runner. */
export interface GatewayAuthConfig {
  /** Token unless a password alone is configured. */
  mode?: AuthMode;
  /** The shared token (a string or a SecretRef). */
  token?: unknown;
  /** The shared password (a string or a SecretRef). */
  password?: unknown;
  /** Settings of trusted-proxy mode. */
  trustedProxy?: TrustedProxyAuthConfig;
  /** Scopes each trusted-proxy identity gets on WebSocket sessions (none unless listed). */
  identityScopes?: Record<string, string[]>;
  /** Failed-auth backoff per client address. */
  rateLimit?: RateLimitConfig;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** `gateway.controlUi`. */
export interface ControlUiConfig {
  /** Serve the Control UI (true). */
  enabled?: boolean;
  /** The path it is served under (`/`). */
  basePath?: string;
  /** Browser origins other than the gateway's own allowed to open sockets. */
  allowedOrigins?: string[];
  /**
   * A Control UI build on disk to serve instead of the built-in page (unset: the built-in one), such
   * as OpenClaw's own `dist/control-ui/`. Read at start.
   */
  root?: string;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** `gateway.http`. */
export interface GatewayHttpConfig {
  /** `strictTransportSecurity`: the HSTS value to send, only when set. */
  securityHeaders?: { strictTransportSecurity?: string | false; [key: string]: unknown };
  /** Which OpenAI-compatible endpoints are on. */
  endpoints?: {
    chatCompletions?: { enabled?: boolean; [key: string]: unknown };
    responses?: { enabled?: boolean; [key: string]: unknown };
    embeddings?: { enabled?: boolean; [key: string]: unknown };
    [key: string]: unknown;
  };
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** `gateway.reload`: how config edits reach a running gateway. */
export interface GatewayReloadConfig {
  /** `hybrid` unless set: hot-apply what can be, restart for the rest. */
  mode?: "off" | "hot" | "restart" | "hybrid";
  /** How long edits settle before they are read. */
  debounceMs?: number;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** Per-address unauthenticated sockets allowed at once, by default. */
export const DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS = 64;
/** Agent runs one connection may have waiting to start, by default. */
export const DEFAULT_MAX_QUEUED_RUNS_PER_CONNECTION = 64;
/** Default of `gateway.limits.bodyTimeoutMs`. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** `gateway.limits`: bounds on what one client can hold, so one client cannot starve the rest. */
export interface GatewayLimitsConfig {
  /**
   * Sockets from one client address (IPv6: one /64) that may sit unauthenticated at once; 64 by
   * default. Beside the global cap of 1,000, so one address cannot take every pre-auth slot.
   */
  maxUnauthenticatedPerAddress?: number;
  /**
   * Agent runs one connection may have queued (accepted, not yet started); 64 by default. Past it,
   * `agent` and `chat.send` answer a retryable UNAVAILABLE, so one client cannot fill the queue.
   */
  maxQueuedRunsPerConnection?: number;
  /** How long any route waits for a whole request body before answering 408; 30 s by default. */
  bodyTimeoutMs?: number;
  /** How long a connection may take to send complete request headers (idle keep-alive included); 10 s. */
  headerTimeoutMs?: number;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** `gateway.limits.bodyTimeoutMs` of `gateway`, or its default. */
export function bodyTimeoutMs(gateway: GatewaySection | undefined): number {
  return gateway?.limits?.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
}

/** `gateway.tls`: HTTPS/WSS on the gateway's own port. */
export interface GatewayTlsConfig {
  /** Serve HTTPS/WSS (off). */
  enabled?: boolean;
  /** The certificate (PEM). */
  certPath?: string;
  /** The private key (PEM). */
  keyPath?: string;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** `gateway.transport`: how the runner puts the gateway on the network. */
export interface GatewayTransportConfig {
  /**
   * The Deno transport's engine: `hardened` (default) bounds the header phase, reads bodies as routes
   * pull them and sizes WebSocket frames from their header; `native` (Deno.serve) is faster without them.
   */
  engine?: "hardened" | "native";
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** `gateway.cluster`: replicas of one gateway sharing their state through one Redis/Valkey. */
export interface GatewayClusterConfig {
  /** The shared server; without a URL (here or in `OPENCLAW_REDIS_URL`) state stays in this process. */
  redis?: {
    /** `redis://` or `rediss://` (db, username and password in the URL); a string or a SecretRef. */
    url?: unknown;
    /** Other keys are kept, as everywhere in this section. */
    [key: string]: unknown;
  };
  /** Starts every key and the bus channel (default `openclaw:`), so several gateways can share a server. */
  keyPrefix?: string;
  /**
   * How long a replica's singleton leases (channel polling, cron, heartbeats) and its peer record last
   * unless renewed, in ms (default 15000): a dead replica's jobs move, and it leaves the peers, after this.
   */
  leaseTtlMs?: number;
  /**
   * How long a turn's hold on its session lasts unless renewed, in ms (default 30000, 3000 to 600000): a
   * replica that dies mid-turn blocks its sessions on every other replica for this long.
   */
  sessionLeaseTtlMs?: number;
  /** Other keys are kept, as everywhere in this section. */
  [key: string]: unknown;
}

/** `gateway.nodes`: the policy over what connected nodes may be asked to run. */
export interface GatewayNodesConfig {
  /** Exact command names. */
  commands?: {
    /** Allowed beyond the platform defaults, dangerous ones (`camera.snap`, `sms.send`) included. */
    allow?: string[];
    /** Never allowed, whatever the defaults or `allow` say. */
    deny?: string[];
    [key: string]: unknown;
  };
  /** Other keys are kept, as everywhere in this section. */
  [key: string]: unknown;
}

/** The whole `gateway` section. */
export interface GatewaySection {
  /** `local` runs a gateway here; `remote` makes the CLI talk to the one at `remote.url`. Default `local`. */
  mode?: "local" | "remote";
  /** TCP port for WebSocket and HTTP; default 18789, 0 picks a free port. */
  port?: number;
  /**
   * Which interfaces to listen on; default `loopback` (127.0.0.1), `custom` uses `customBindHost`, the rest
   * 0.0.0.0.
   */
  bind?: "loopback" | "lan" | "tailnet" | "auto" | "custom";
  /** Host address to bind when `bind` is `custom`; default 127.0.0.1. */
  customBindHost?: string;
  /** How clients authenticate: token, password, trusted proxy or none. */
  auth?: GatewayAuthConfig;
  /** Default []: peers whose forwarding headers name the client (addresses or CIDRs, IPv4 or IPv6). */
  trustedProxies?: string[];
  /** Default false: X-Real-IP names the client only when X-Forwarded-For is absent and this is on. */
  allowRealIpFallback?: boolean;
  /** Whether and where the browser Control UI is served, and which origins may use it. */
  controlUi?: ControlUiConfig;
  /** Which HTTP endpoints (such as the OpenAI-compatible ones) are enabled. */
  http?: GatewayHttpConfig;
  /** How the gateway applies config file changes while running. */
  reload?: GatewayReloadConfig;
  /** Tools allowed or denied over `POST /tools/invoke`, by name. */
  tools?: { allow?: string[]; deny?: string[]; [key: string]: unknown };
  /** Which node commands may be invoked, on top of the platform defaults. */
  nodes?: GatewayNodesConfig;
  /** Where the CLI connects when `mode` is `remote`, and the credentials it sends. */
  remote?: { url?: string; token?: unknown; password?: unknown; [key: string]: unknown };
  /** Bounds on what one client can hold (pre-auth sockets, queued runs, body and header timeouts). */
  limits?: GatewayLimitsConfig;
  /** HTTPS/WSS on the gateway's own port. */
  tls?: GatewayTlsConfig;
  /** Which engine serves HTTP and WebSocket (read at start). */
  transport?: GatewayTransportConfig;
  /** Replicas sharing one Redis/Valkey (read at start). */
  cluster?: GatewayClusterConfig;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

const SESSION_LEASE_TTL_MIN_MS = 3_000;
const SESSION_LEASE_TTL_MAX_MS = 600_000;
/** `gateway.cluster.leaseTtlMs` when unset (`SINGLETON_LEASE_TTL_MS` in lib/state/singleton.ts; a test keeps them equal). */
export const CLUSTER_LEASE_TTL_DEFAULT_MS = 15_000;

/**
 * A session lease must outlast the time the cluster takes to notice a dead replica: its peer record lapses
 * up to one `leaseTtlMs` after the death and the sweep that resumes its waiting turns runs every third of
 * that, while its session lease lapses as soon as two thirds of `sessionLeaseTtlMs` after it (renewed every
 * third). Below twice `leaseTtlMs`, a message sent to a live replica meanwhile would find the session free
 * and run ahead of one the dead replica had acknowledged.
 */
function sessionLeaseOutlastsPeers(
  cluster: { leaseTtlMs?: number; sessionLeaseTtlMs?: number },
  context: z.RefinementCtx,
): void {
  const least = 2 * (cluster.leaseTtlMs ?? CLUSTER_LEASE_TTL_DEFAULT_MS);
  if (cluster.sessionLeaseTtlMs === undefined || cluster.sessionLeaseTtlMs >= least) return;
  context.addIssue({
    code: "custom",
    path: ["sessionLeaseTtlMs"],
    message: `at least twice gateway.cluster.leaseTtlMs (${least} ms): a dead replica's waiting turns are ` +
      "taken up only once it has left the peers, and a session lease that lapses sooner lets newer " +
      "messages run ahead of them (lower leaseTtlMs too for a faster takeover)",
  });
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
      /** Default false: any local process could send identity headers, so a same-host proxy is opt-in. */
      allowLoopback: z.boolean().optional(),
    }).optional(),
    /**
     * Default {}: scopes a verified trusted-proxy identity gets on a WebSocket (email keys match
     * case-insensitively); without a grant such a session has no scopes, since it cannot declare its own.
     */
    identityScopes: z.record(z.string(), z.array(z.enum(OPERATOR_SCOPES))).optional(),
    rateLimit: z.looseObject({
      maxAttempts: z.number().int().positive().optional(),
      windowMs: z.number().int().positive().optional(),
      lockoutMs: z.number().int().nonnegative().optional(),
      exemptLoopback: z.boolean().optional(),
    }).optional(),
  }).optional(),
  /** Default []: peers whose forwarding headers name the client (addresses or CIDRs, IPv4 or IPv6). */
  trustedProxies: z.array(
    z.string().refine((entry) => parseCidr(entry) !== undefined, {
      message: "not an IP address or CIDR (for example 10.0.0.1, 10.0.0.0/8 or fd00::/8)",
    }),
  ).optional(),
  /** Default false: X-Real-IP names the client only when X-Forwarded-For is absent and this is on. */
  allowRealIpFallback: z.boolean().optional(),
  controlUi: z.looseObject({
    enabled: z.boolean().optional(),
    basePath: z.string().optional(),
    allowedOrigins: z.array(z.string()).optional(),
    root: z.string().min(1).optional(),
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
  nodes: z.looseObject({
    commands: z.looseObject({
      /** Default []: node commands allowed beyond the platform defaults (the dangerous ones need this). */
      allow: z.array(z.string()).optional(),
      /** Default []: node commands refused whatever else allows them. */
      deny: z.array(z.string()).optional(),
    }).optional(),
  }).optional(),
  remote: z.looseObject({
    url: z.string().optional(),
    token: z.unknown().optional(),
    password: z.unknown().optional(),
  }).optional(),
  limits: z.looseObject({
    maxUnauthenticatedPerAddress: z.number().int().positive().optional(),
    maxQueuedRunsPerConnection: z.number().int().positive().optional(),
    // One deadline for every body-taking route, so a slow sender cannot hold a request open longer on one
    // route than on another.
    bodyTimeoutMs: z.number().int().positive().optional(),
    headerTimeoutMs: z.number().int().positive().optional(),
  }).optional(),
  /** Serves HTTPS/WSS from certPath/keyPath (PEM) when enabled (default off); other reference keys are kept. */
  tls: z.looseObject({
    enabled: z.boolean().optional(),
    certPath: z.string().optional(),
    keyPath: z.string().optional(),
  }).optional(),
  transport: z.looseObject({
    /**
     * Default "hardened": the gateway's own HTTP/1.1 + WebSocket engine, which enforces headerTimeoutMs,
     * pre-auth and maxPayload frame sizes while reading, and 1007 for invalid UTF-8. "native" (Deno.serve)
     * is about twice as fast on small requests but Deno gives it none of those three bounds.
     */
    engine: z.enum(["hardened", "native"]).optional(),
  }).optional(),
  cluster: z.looseObject({
    redis: z.looseObject({
      /**
       * Default none (state in this process): the Redis/Valkey every replica shares, as a string or a
       * SecretRef (its password is a secret); `OPENCLAW_REDIS_URL` wins over it.
       */
      url: z.unknown().refine((url) => typeof url !== "string" || /^rediss?:\/\/./.test(url), {
        message: "not a redis:// or rediss:// URL",
      }).optional(),
    }).optional(),
    /** Default "openclaw:": what every key and the bus channel start with. */
    keyPrefix: z.string().min(1).optional(),
    /** Default 15000: singleton leases and peer records last this long unless renewed (3 renewals a TTL). */
    leaseTtlMs: z.number().int().min(30).max(600_000).optional(),
    /**
     * Default 30000, or twice `leaseTtlMs` when that is longer; never less than twice it: a turn's session
     * lease. It is renewed every third of it and a turn stops once two
     * thirds pass unconfirmed, so below 3 s a renewal's round trip and a busy event loop would cost turns
     * their lease; above 10 min a dead replica's sessions would wait that long.
     */
    sessionLeaseTtlMs: z.number().int()
      .min(SESSION_LEASE_TTL_MIN_MS, {
        message: `at least ${SESSION_LEASE_TTL_MIN_MS} ms: the lease is renewed every third of it, and a ` +
          "renewal needs a round trip to the store and a free event loop within that third",
      })
      .max(SESSION_LEASE_TTL_MAX_MS, {
        message: `at most ${SESSION_LEASE_TTL_MAX_MS} ms (10 min): a replica that dies mid-turn blocks its ` +
          "sessions on every other replica for this long",
      })
      .optional(),
  }).superRefine(sessionLeaseOutlastsPeers).optional(),
});
