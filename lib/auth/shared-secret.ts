/**
 * Shared-secret auth: which mode is in force, the secret it checks, and a constant-time comparison.
 *
 * @module
 */
import type { AuthMode, GatewayAuthConfig } from "../config/sections/gateway.ts";
import { GatewayError } from "../errors.ts";

/** The auth settings the gateway enforces, after config and environment are combined. */
export interface ResolvedAuth {
  mode: AuthMode;
  token?: string;
  password?: string;
  trustedProxy?: {
    userHeader: string;
    requiredHeaders: string[];
    allowUsers: string[];
    allowLoopback: boolean;
  };
  /** Scopes per verified trusted-proxy identity (keys lower-cased when they are emails). */
  identityScopes: ReadonlyMap<string, readonly string[]>;
  /** Where each secret came from (a config key or an env var), for startup messages; absent when unset. */
  sources: { mode?: "gateway.auth.mode"; token?: string; password?: string };
}

/** Email identities match case-insensitively; anything else exactly. */
export function identityKey(identity: string): string {
  return identity.includes("@") ? identity.toLowerCase() : identity;
}

function secretString(value: unknown, path: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") return value;
  throw new GatewayError(
    "CONFIG_INVALID",
    `${path} is not a string; SecretRefs must be resolved before the gateway starts (run it through the openclaw runner)`,
  );
}

/**
 * Combines `gateway.auth` with `OPENCLAW_GATEWAY_TOKEN` / `OPENCLAW_GATEWAY_PASSWORD`. With no mode set,
 * a configured password selects password mode; otherwise token mode (auth is on by default).
 */
export function resolveAuth(
  config: GatewayAuthConfig | undefined,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedAuth {
  const configToken = secretString(config?.token, "gateway.auth.token");
  const configPassword = secretString(config?.password, "gateway.auth.password");
  const token = configToken ?? (env.OPENCLAW_GATEWAY_TOKEN || undefined);
  const password = configPassword ?? (env.OPENCLAW_GATEWAY_PASSWORD || undefined);
  const mode: AuthMode = config?.mode ?? (password && !token ? "password" : "token");
  const sources: ResolvedAuth["sources"] = {};
  if (config?.mode) sources.mode = "gateway.auth.mode";
  if (token) sources.token = configToken ? "gateway.auth.token" : "OPENCLAW_GATEWAY_TOKEN";
  if (password) sources.password = configPassword ? "gateway.auth.password" : "OPENCLAW_GATEWAY_PASSWORD";
  const identityScopes = new Map(
    Object.entries(config?.identityScopes ?? {}).map(([identity, scopes]) => [identityKey(identity), scopes]),
  );
  const resolved: ResolvedAuth = { mode, token, password, identityScopes, sources };
  // Without the block every trusted-proxy request is refused (trusted_proxy_config_missing), never guessed.
  if (mode === "trusted-proxy" && config?.trustedProxy) {
    resolved.trustedProxy = {
      userHeader: (config?.trustedProxy?.userHeader ?? "x-forwarded-user").toLowerCase(),
      requiredHeaders: (config?.trustedProxy?.requiredHeaders ?? []).map((h) => h.toLowerCase()),
      allowUsers: config?.trustedProxy?.allowUsers ?? [],
      allowLoopback: config?.trustedProxy?.allowLoopback ?? false,
    };
  }
  return resolved;
}

/** Settings that contradict each other (the gateway refuses them rather than guess), or `undefined`. */
export function authContradiction(auth: ResolvedAuth): string | undefined {
  const { sources } = auth;
  if (auth.mode === "trusted-proxy" && sources.token) {
    // A shared token would open a second way in that skips the proxy-verified identity.
    return `gateway.auth.mode is trusted-proxy, but a shared token is also configured (${sources.token}): remove the token, or set gateway.auth.mode to token if token auth is what you want (gateway.auth.password stays allowed as a same-host fallback)`;
  }
  if (!sources.mode && sources.token && sources.password) {
    return `both a token (${sources.token}) and a password (${sources.password}) are configured but gateway.auth.mode is not set: set gateway.auth.mode to token or password, or remove the one you do not use`;
  }
  return undefined;
}

/** Why a gateway with this auth cannot start, or `undefined` when it can. */
export function authConfigProblem(auth: ResolvedAuth): string | undefined {
  const contradiction = authContradiction(auth);
  if (contradiction) return contradiction;
  if (auth.mode === "token" && !auth.token) {
    return "gateway.auth.mode is token but no token is configured: set gateway.auth.token or OPENCLAW_GATEWAY_TOKEN";
  }
  if (auth.mode === "password" && !auth.password) {
    return "gateway.auth.mode is password but no password is configured: set gateway.auth.password or OPENCLAW_GATEWAY_PASSWORD";
  }
  return undefined;
}

/** Compares two secrets in time that depends only on the expected secret's length. */
export function secretsEqual(provided: string, expected: string): boolean {
  // UTF-16 code units compare as well as bytes here and need no encoding on every request.
  let diff = provided.length ^ expected.length;
  const n = provided.length || 1;
  for (let i = 0; i < expected.length; i++) diff |= (provided.charCodeAt(i % n) | 0) ^ expected.charCodeAt(i);
  return diff === 0;
}

/** The outcome of checking one presented credential. */
export type SecretCheck =
  | { ok: true; method: "token" | "password" | "none" }
  | {
    ok: false;
    missing: boolean;
    reason: "token_missing" | "token_mismatch" | "password_missing" | "password_mismatch";
  };

/** Checks a presented token/password against the resolved auth (`none` mode accepts anything). */
export function checkSharedSecret(auth: ResolvedAuth, token?: string, password?: string): SecretCheck {
  if (auth.mode === "none") return { ok: true, method: "none" };
  if (auth.mode === "password") {
    // HTTP callers send the password as a bearer token, so accept it in either slot.
    const presented = password ?? token;
    if (!presented) return { ok: false, missing: true, reason: "password_missing" };
    return secretsEqual(presented, auth.password ?? "")
      ? { ok: true, method: "password" }
      : { ok: false, missing: false, reason: "password_mismatch" };
  }
  if (!token) return { ok: false, missing: true, reason: "token_missing" };
  return secretsEqual(token, auth.token ?? "")
    ? { ok: true, method: "token" }
    : { ok: false, missing: false, reason: "token_mismatch" };
}

/** The codes a failed check is refused with on a socket. */
const REFUSAL_CODES = {
  token_missing: "AUTH_TOKEN_MISSING",
  token_mismatch: "AUTH_TOKEN_MISMATCH",
  password_missing: "AUTH_PASSWORD_MISSING",
  password_mismatch: "AUTH_PASSWORD_MISMATCH",
} as const;

/**
 * A socket's refusal for a failed check under `mode`: what was missing or wrong, and how to fix it. With
 * `retryWithDeviceToken` (a device that sent a wrong token and no explicit device token) a wrong token
 * says so, as the reference does: clients then retry once with the device token they stored.
 */
export function secretRefusal(
  check: Extract<SecretCheck, { ok: false }>,
  mode: AuthMode,
  retryWithDeviceToken = false,
): GatewayError {
  const what = mode === "password" ? "password" : "token";
  const message = check.missing
    ? `unauthorized: gateway ${what} missing (pass the gateway ${what} in connect.params.auth)`
    : `unauthorized: gateway ${what} mismatch (check the ${what} configured for this client)`;
  const retry = retryWithDeviceToken && check.reason === "token_mismatch";
  return new GatewayError("INVALID_REQUEST", message, {
    details: {
      code: REFUSAL_CODES[check.reason],
      authReason: check.reason,
      ...(retry ? { canRetryWithDeviceToken: true } : {}),
      recommendedNextStep: retry ? "retry_with_device_token" : "update_auth_credentials",
    },
  });
}
