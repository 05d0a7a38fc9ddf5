/**
 * Where the CLI connects and with which credentials, following OpenClaw's precedence: explicit flags,
 * then `OPENCLAW_GATEWAY_URL` (env credentials only), the configured remote, and local loopback.
 *
 * @module
 */
import type { GatewayConfig } from "../../../lib/config/schema.ts";
import { CliError, EXIT } from "../../cli/errors.ts";
import { DEV_PORT } from "../../cli/profile-paths.ts";

/** Connection flags shared by the query commands. */
export interface ConnectionFlags {
  url?: string;
  token?: string;
  password?: string;
  port?: number;
}

/** One place to probe. */
export interface GatewayTarget {
  id: "explicit" | "env" | "remote" | "local";
  /** Human label, e.g. `Local loopback`. */
  label: string;
  url: string;
  token?: string;
  password?: string;
}

/** How the port in force was chosen. */
export type PortSource = "cli" | "env" | "config" | "default";

/** The gateway the CLI is pointed at, with the facts `gateway status` reports. */
export interface ResolvedGateway {
  port: number;
  portSource: PortSource;
  bindMode: string;
  bindHost: string;
  /** Targets in priority order (explicit, env, remote, local); the first is the primary one. */
  targets: GatewayTarget[];
  /** Set when a configured credential could not be resolved (an unresolvable SecretRef). */
  authWarning?: string;
}

const DEFAULT_PORT = 18789;

/** Resolves a config credential: a string, or an env SecretRef; anything else is unresolved. */
function secretValue(
  value: unknown,
  env: Record<string, string | undefined>,
  path: string,
  unresolved: string[],
): string | undefined {
  if (typeof value === "string") return value || undefined;
  if (value && typeof value === "object") {
    const ref = value as { source?: unknown; id?: unknown };
    if (ref.source === "env" && typeof ref.id === "string" && env[ref.id]) return env[ref.id];
    unresolved.push(path);
  }
  return undefined;
}

/** The port in force and where it came from: `--port` → `OPENCLAW_GATEWAY_PORT` → `gateway.port` → default. */
export function resolvePort(
  flagPort: number | undefined,
  env: Record<string, string | undefined>,
  config: GatewayConfig,
  dev: boolean,
): { port: number; portSource: PortSource } {
  if (flagPort !== undefined) return { port: flagPort, portSource: "cli" };
  const envPort = Number(env.OPENCLAW_GATEWAY_PORT);
  if (env.OPENCLAW_GATEWAY_PORT && Number.isInteger(envPort) && envPort > 0 && envPort < 65536) {
    return { port: envPort, portSource: "env" };
  }
  if (config.gateway?.port !== undefined) return { port: config.gateway.port, portSource: "config" };
  return { port: dev ? DEV_PORT : DEFAULT_PORT, portSource: "default" };
}

/**
 * Resolves targets and credentials. `--url` requires explicit credentials (it never borrows config ones)
 * and replaces the other targets, except with `probeAll` (status/probe), where it is added ahead of them.
 */
export function resolveGateway(
  flags: ConnectionFlags,
  env: Record<string, string | undefined>,
  config: GatewayConfig,
  dev: boolean,
  options: { probeAll?: boolean } = {},
): ResolvedGateway {
  const gw = config.gateway ?? {};
  const { port, portSource } = resolvePort(flags.port, env, config, dev);
  const bindMode = gw.bind ?? "loopback";
  const unresolved: string[] = [];
  const secret = (value: unknown, path: string) => secretValue(value, env, path, unresolved);
  const explicit = { token: flags.token || undefined, password: flags.password || undefined };
  const override = urlTarget(flags, env, explicit);
  const targets: GatewayTarget[] = override ? [override] : [];
  // Explicit credentials belong to an explicit --url when there is one, else to the resolved target.
  const own: { token?: string; password?: string } = flags.url ? {} : explicit;

  const remote = gw.remote ?? {};
  if (gw.mode === "remote" && remote.url && flags.port === undefined && (!flags.url || options.probeAll)) {
    targets.push({
      id: "remote",
      label: "Remote (configured)",
      url: remote.url,
      token: own.token ?? secret(remote.token, "gateway.remote.token") ??
        (env.OPENCLAW_GATEWAY_TOKEN || undefined) ??
        secret(gw.auth?.token, "gateway.auth.token"),
      password: own.password ?? (env.OPENCLAW_GATEWAY_PASSWORD || undefined) ??
        secret(remote.password, "gateway.remote.password") ??
        secret(gw.auth?.password, "gateway.auth.password"),
    });
  }

  if (!flags.url || options.probeAll) {
    targets.push({
      id: "local",
      label: "Local loopback",
      url: `ws://127.0.0.1:${port}`,
      token: own.token ?? secret(gw.auth?.token, "gateway.auth.token") ??
        (env.OPENCLAW_GATEWAY_TOKEN || undefined) ??
        secret(remote.token, "gateway.remote.token"),
      password: own.password ?? secret(gw.auth?.password, "gateway.auth.password") ??
        (env.OPENCLAW_GATEWAY_PASSWORD || undefined) ?? secret(remote.password, "gateway.remote.password"),
    });
  }

  return {
    port,
    portSource,
    bindMode,
    bindHost: bindHostOf(bindMode, gw.customBindHost),
    targets,
    ...(unresolved.length
      ? {
        authWarning: `could not resolve ${[...new Set(unresolved)].join(", ")}; pass --token or --password`,
      }
      : {}),
  };
}

/** The address a gateway with this bind mode listens on. */
function bindHostOf(bindMode: string, customBindHost: string | undefined): string {
  if (bindMode === "loopback") return "127.0.0.1";
  return bindMode === "custom" ? customBindHost ?? "127.0.0.1" : "0.0.0.0";
}

/**
 * The target a URL names ahead of the configured ones: `--url` (explicit credentials required), else
 * `OPENCLAW_GATEWAY_URL`.
 */
function urlTarget(
  flags: ConnectionFlags,
  env: Record<string, string | undefined>,
  explicit: { token?: string; password?: string },
): GatewayTarget | undefined {
  if (flags.url) {
    if (flags.port !== undefined) {
      throw new CliError("--port cannot be combined with --url; pass one of them", EXIT.usage);
    }
    if (explicit.token === undefined && explicit.password === undefined) {
      throw new CliError(
        "gateway url override requires explicit credentials: pass --token or --password with --url",
        EXIT.usage,
      );
    }
    return { id: "explicit", label: "URL (explicit)", url: flags.url, ...explicit };
  }
  if (!env.OPENCLAW_GATEWAY_URL || flags.port !== undefined) return undefined;
  return {
    id: "env",
    label: "URL (OPENCLAW_GATEWAY_URL)",
    url: env.OPENCLAW_GATEWAY_URL,
    token: explicit.token ?? (env.OPENCLAW_GATEWAY_TOKEN || undefined),
    password: explicit.password ?? (env.OPENCLAW_GATEWAY_PASSWORD || undefined),
  };
}
