/**
 * Decides who a client is: shared secret, device token, trusted proxy, device proof and pairing, with
 * failed-attempt backoff. One place for both sockets and HTTP so the rules cannot drift apart.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import { MIN_CLIENT_PROTOCOL, MIN_NODE_PROTOCOL, PROTOCOL_VERSION } from "../protocol/constants.ts";
import type { ConnectParams } from "../protocol/frames.ts";
import { DEFAULT_OPERATOR_SCOPES } from "../protocol/scopes.ts";
import type { DeviceStore } from "../state/devices.ts";
import type { CallerIdentity, HttpAuthResult, RequestInfo } from "../types.ts";
import { verifyDeviceProof } from "./device.ts";
import { isDirectLocal, isLoopbackAddress } from "./locality.ts";
import type { AuthRateLimiter } from "./rate-limit.ts";
import { checkSharedSecret, type ResolvedAuth } from "./shared-secret.ts";
import { jsonResponse } from "../http/security-headers.ts";

/** What the authenticator needs from the gateway. */
export interface AuthenticatorDeps {
  auth(): ResolvedAuth;
  trustedProxies(): readonly string[];
  rateLimiter: AuthRateLimiter;
  exemptLoopback(): boolean;
  devices: DeviceStore;
  now(): number;
  newToken(): string;
}

/** Where a socket came from and what it was challenged with. */
export interface SocketOrigin {
  connId: string;
  remoteAddress: string;
  headers: Headers;
  nonce: string;
}

/** A successful socket authentication. */
export interface SocketAuthResult {
  caller: CallerIdentity;
  /** Issued when a device was paired on this connect. */
  deviceToken?: string;
}

function authError(code: string, message: string, extra: Record<string, unknown> = {}): GatewayError {
  return new GatewayError("INVALID_REQUEST", message, { details: { code, ...extra } });
}

/** Authenticates sockets and HTTP requests. */
export class Authenticator {
  #httpCalls = 0;
  constructor(private readonly deps: AuthenticatorDeps) {}

  /** Rejects a protocol range the gateway cannot speak, naming both sides' versions. */
  checkProtocol(params: ConnectParams): void {
    const lightweight = (params.role === "node" && params.client.mode === "node") ||
      params.client.mode === "probe";
    const min = lightweight ? MIN_NODE_PROTOCOL : MIN_CLIENT_PROTOCOL;
    if (params.maxProtocol < min || params.minProtocol > PROTOCOL_VERSION) {
      throw new GatewayError(
        "INVALID_REQUEST",
        `protocol mismatch: client supports v${params.minProtocol}-v${params.maxProtocol}, gateway speaks v${PROTOCOL_VERSION} (minimum v${min}); update the client or the gateway`,
        { details: { code: "PROTOCOL_MISMATCH", expectedProtocol: PROTOCOL_VERSION, minProtocol: min } },
      );
    }
  }

  #rateKey(remoteAddress: string, headers: Headers, credentialClass: string): string | undefined {
    const origin = headers.get("origin");
    if (isLoopbackAddress(remoteAddress) && this.deps.exemptLoopback()) {
      // Browsers on this machine can still be driven by hostile pages, so key those by origin.
      return origin ? `origin:${origin}:${credentialClass}` : undefined;
    }
    return `ip:${remoteAddress}:${credentialClass}`;
  }

  #throwIfLocked(key: string | undefined): void {
    if (!key) return;
    const retryAfterMs = this.deps.rateLimiter.retryAfter(key);
    if (retryAfterMs > 0) {
      throw new GatewayError(
        "INVALID_REQUEST",
        "unauthorized: too many failed authentication attempts (retry later)",
        {
          retryable: true,
          retryAfterMs,
          details: {
            code: "AUTH_RATE_LIMITED",
            authReason: "rate_limited",
            recommendedNextStep: "wait_then_retry",
          },
        },
      );
    }
  }

  async authenticateSocket(params: ConnectParams, origin: SocketOrigin): Promise<SocketAuthResult> {
    this.checkProtocol(params);
    const auth = this.deps.auth();
    const credentialClass = params.auth?.password !== undefined ? "password" : "token";
    const rateKey = this.#rateKey(origin.remoteAddress, origin.headers, credentialClass);
    this.#throwIfLocked(rateKey);

    const base = {
      connId: origin.connId,
      role: params.role,
      client: params.client,
      remoteAddress: origin.remoteAddress,
    };
    const requestedScopes = params.role === "node" ? [] : [...new Set(params.scopes)];

    if (auth.mode === "trusted-proxy") {
      const user = this.#trustedProxyUser(origin.remoteAddress, origin.headers);
      if (!user.ok) throw authError("AUTH_TRUSTED_PROXY_REJECTED", `unauthorized: ${user.reason}`);
      return { caller: { ...base, scopes: requestedScopes, authMethod: "trusted-proxy" } };
    }

    const paired = params.auth?.token ? this.deps.devices.byToken(params.auth.token) : undefined;
    if (paired && paired.role === params.role) {
      this.#succeed(rateKey);
      const scopes = requestedScopes.length ? requestedScopes : paired.scopes;
      const beyond = scopes.filter((s) => !paired.scopes.includes(s));
      if (beyond.length) {
        throw authError("AUTH_SCOPE_MISMATCH", `device token does not cover scopes: ${beyond.join(", ")}`, {
          recommendedNextStep: "review_auth_configuration",
        });
      }
      return { caller: { ...base, scopes, deviceId: paired.deviceId, authMethod: "device-token" } };
    }

    const check = checkSharedSecret(auth, params.auth?.token, params.auth?.password);
    if (!check.ok) {
      if (!check.missing && rateKey) this.#fail(rateKey);
      const code = check.reason === "token_missing"
        ? "AUTH_TOKEN_MISSING"
        : check.reason === "token_mismatch"
        ? "AUTH_TOKEN_MISMATCH"
        : check.reason === "password_missing"
        ? "AUTH_PASSWORD_MISSING"
        : "AUTH_PASSWORD_MISMATCH";
      const what = auth.mode === "password" ? "password" : "token";
      throw authError(
        code,
        check.missing
          ? `unauthorized: gateway ${what} missing (pass the gateway ${what} in connect.params.auth)`
          : `unauthorized: gateway ${what} mismatch (check the ${what} configured for this client)`,
        { authReason: check.reason, recommendedNextStep: "update_auth_credentials" },
      );
    }
    this.#succeed(rateKey);

    if (!params.device) {
      return { caller: { ...base, scopes: requestedScopes, authMethod: check.method } };
    }
    await verifyDeviceProof(params.device, {
      clientId: params.client.id,
      clientMode: params.client.mode,
      role: params.role,
      scopes: params.scopes,
      token: params.auth?.token ?? "",
      nonce: origin.nonce,
      platform: params.client.platform,
      deviceFamily: params.client.deviceFamily,
    }, this.deps.now());
    return this.#pair(params, origin, requestedScopes, base, check.method);
  }

  #pair(
    params: ConnectParams,
    origin: SocketOrigin,
    scopes: string[],
    base: Omit<CallerIdentity, "scopes" | "authMethod">,
    method: string,
  ): SocketAuthResult {
    const device = params.device!;
    const existing = this.deps.devices.get(device.id);
    const local = isDirectLocal(origin.remoteAddress, origin.headers);
    const covered = existing && existing.role === params.role &&
      scopes.every((s) => existing.scopes.includes(s));
    if (covered) return { caller: { ...base, scopes, deviceId: existing.deviceId, authMethod: method } };
    if (!local) {
      const reason = !existing
        ? "not-paired"
        : existing.role !== params.role
        ? "role-upgrade"
        : "scope-upgrade";
      throw authError("PAIRING_REQUIRED", "pairing required: approve this device from the gateway host", {
        reason,
        retryable: false,
        remediationHint: "run `openclaw devices approve` on the gateway host, then reconnect",
      });
    }
    const token = existing?.token ?? this.deps.newToken();
    this.deps.devices.save({
      deviceId: device.id.toLowerCase(),
      publicKey: device.publicKey,
      role: params.role,
      scopes: [...new Set([...(existing?.scopes ?? []), ...scopes])],
      token,
      approvedAt: this.deps.now(),
    });
    return {
      caller: { ...base, scopes, deviceId: device.id.toLowerCase(), authMethod: method },
      deviceToken: token,
    };
  }

  #fail(key: string): void {
    this.deps.rateLimiter.fail(key);
  }

  #succeed(key: string | undefined): void {
    if (key) this.deps.rateLimiter.succeed(key);
  }

  #trustedProxyUser(
    remoteAddress: string,
    headers: Headers,
  ): { ok: true; user: string } | { ok: false; reason: string } {
    const auth = this.deps.auth();
    const proxy = auth.trustedProxy!;
    if (!this.deps.trustedProxies().some((p) => p === remoteAddress || p === "*")) {
      return { ok: false, reason: `request did not come through a trusted proxy (peer ${remoteAddress})` };
    }
    const missing = proxy.requiredHeaders.find((h) => !headers.get(h));
    if (missing) return { ok: false, reason: `trusted proxy did not set required header ${missing}` };
    const user = headers.get(proxy.userHeader);
    if (!user) return { ok: false, reason: `trusted proxy did not set ${proxy.userHeader}` };
    if (proxy.allowUsers.length && !proxy.allowUsers.includes(user)) {
      return { ok: false, reason: `user ${user} is not in gateway.auth.trustedProxy.allowUsers` };
    }
    return { ok: true, user };
  }

  /** Checks an HTTP caller: bearer token/password, a device token, or trusted-proxy headers. */
  authenticateHttp(request: Request, info: RequestInfo): HttpAuthResult {
    const auth = this.deps.auth();
    const caller = (method: string, scopes: readonly string[] = DEFAULT_OPERATOR_SCOPES): HttpAuthResult => ({
      ok: true,
      caller: {
        connId: `http:${++this.#httpCalls}`,
        role: "operator",
        scopes,
        authMethod: method,
        remoteAddress: info.remoteAddress,
      },
    });
    const unauthorized = (status = 401, headers: Record<string, string> = {}, message = "Unauthorized") => ({
      ok: false as const,
      response: jsonResponse(
        { error: { message, type: status === 429 ? "rate_limited" : "unauthorized" } },
        status,
        {
          ...headers,
        },
      ),
    });
    if (auth.mode === "none") return caller("none");
    if (auth.mode === "trusted-proxy") {
      const user = this.#trustedProxyUser(info.remoteAddress, request.headers);
      return user.ok ? caller("trusted-proxy") : unauthorized();
    }
    const header = request.headers.get("authorization") ?? "";
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    // With no failures on record no one can be locked out, so the key waits until it is needed.
    let key = this.deps.rateLimiter.tracked
      ? this.#rateKey(info.remoteAddress, request.headers, "token")
      : undefined;
    const retryAfter = key ? this.deps.rateLimiter.retryAfter(key) : 0;
    if (retryAfter > 0) {
      return unauthorized(
        429,
        { "Retry-After": String(Math.ceil(retryAfter / 1000)) },
        "Too many failed authentication attempts",
      );
    }
    if (!bearer) return unauthorized();
    const device = this.deps.devices.byToken(bearer);
    if (device) return caller("device-token", device.scopes);
    const check = checkSharedSecret(auth, bearer);
    if (check.ok) {
      this.#succeed(key);
      return caller(check.method);
    }
    key ??= this.#rateKey(info.remoteAddress, request.headers, "token");
    if (key) this.#fail(key);
    return unauthorized();
  }
}
