/**
 * Decides who a client is: which credentials are tried in which order, and what each admits. One place
 * for both sockets and HTTP so the rules cannot drift apart. The checks live beside it: the shared secret
 * (`shared-secret.ts`), trusted proxies (`trusted-proxy.ts`), device proof (`device.ts`) and pairing
 * (`pairing.ts`), and the failed-attempt backoff (`rate-limit.ts`).
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import { MIN_CLIENT_PROTOCOL, MIN_NODE_PROTOCOL, PROTOCOL_VERSION } from "../protocol/constants.ts";
import type { ConnectParams } from "../protocol/frames.ts";
import { DEFAULT_OPERATOR_SCOPES, scopeSatisfied } from "../protocol/scopes.ts";
import type { PairedDevice } from "../state/devices.ts";
import type { CallerIdentity, HttpAuthOptions, HttpAuthResult, RequestInfo } from "../types.ts";
import type { ClientAttribution } from "./client-address.ts";
import { type DeviceProofContext, verifyDeviceProof } from "./device.ts";
import { deviceLessScopes } from "./device-less-scopes.ts";
import { admittingPairing, approvedRoles, type PairingDeps } from "./pairing.ts";
import { checkSharedSecret, type ResolvedAuth, type SecretCheck, secretRefusal } from "./shared-secret.ts";
import { jsonResponse } from "../http/response.ts";
import { AuthBackoff, type AuthBackoffDeps, lockedOutResponse } from "./rate-limit.ts";
import {
  headerScopes,
  identityScopes,
  passwordFallback,
  PROXY_ATTRIBUTION_MESSAGE,
  proxyAttributionRefusal,
  type TrustedProxyDeps,
  trustedProxyUser,
} from "./trusted-proxy.ts";

export { proxyAttributionRefusal } from "./trusted-proxy.ts";

/** What the authenticator needs from the gateway. */
export interface AuthenticatorDeps extends TrustedProxyDeps, AuthBackoffDeps, PairingDeps {
  /** Attributes a request to its client address (see `attributeClient`). */
  attribute(peer: string, headers: Headers): ClientAttribution;
  /** Told about each paired device that connected as a `node` (its declared surface may need approval). */
  nodeConnected?(device: PairedDevice, params: ConnectParams, remoteAddress: string): void;
}

/** Where a socket came from and what it was challenged with. */
export interface SocketOrigin {
  connId: string;
  remoteAddress: string;
  headers: Headers;
  /** The upgrade request URL, for same-origin checks. */
  url: string;
  nonce: string;
}

/** A successful socket authentication. */
export interface SocketAuthResult {
  caller: CallerIdentity;
  /** The role's token of a paired device that proved its key, for `hello-ok.auth`. */
  deviceToken?: { token: string; issuedAtMs: number };
}

/** One socket's `connect` while it holds its client's turn (see `AuthBackoff.run`). */
interface SocketAttempt {
  params: ConnectParams;
  origin: SocketOrigin;
  who: ClientAttribution;
  /** The client's failure counter; none for an exempt caller. */
  rateKey: string | undefined;
  /** The counter held failures when the attempt began. */
  hadFailures: boolean;
  /** The caller so far: connection, role, client and attributed address. */
  base: Omit<CallerIdentity, "scopes" | "authMethod">;
  /** The scopes asked for, without repeats (none for a node). */
  requestedScopes: string[];
}

/** A device token a connect presents, and whether it came in the explicit `auth.deviceToken` slot. */
interface DeviceTokenCandidate {
  token: string;
  explicit: boolean;
}

/** What a connect's device proof must cover besides the device itself. */
function proofContext(params: ConnectParams, nonce: string): DeviceProofContext {
  const auth = params.auth;
  return {
    clientId: params.client.id,
    clientMode: params.client.mode,
    role: params.role,
    scopes: params.scopes,
    // The token the client signed: the first one it sent, in the reference's order.
    token: auth?.token ?? auth?.deviceToken ?? auth?.bootstrapToken ?? "",
    nonce,
    platform: params.client.platform,
    deviceFamily: params.client.deviceFamily,
  };
}

function authError(code: string, message: string, extra: Record<string, unknown> = {}): GatewayError {
  return new GatewayError("INVALID_REQUEST", message, { details: { code, ...extra } });
}

/**
 * The device token a connect presents, if any: only a connect that carries a device identity has one
 * (the token is bound to that device's key), the explicit `auth.deviceToken` first, else `auth.token`.
 * None when the shared token was right: it decides (and device tokens are random, so `auth.token` then
 * is no device's and needs no store lookup).
 */
function deviceTokenCandidate(params: ConnectParams, check: SecretCheck): DeviceTokenCandidate | undefined {
  if (!params.device || (check.ok && check.method === "token")) return undefined;
  const explicit = params.auth?.deviceToken;
  if (explicit) return { token: explicit, explicit: true };
  const token = params.auth?.token;
  return token ? { token, explicit: false } : undefined;
}

/** The refusal of a wrong explicit `auth.deviceToken`: stale, revoked, another device's, or another role's. */
function deviceTokenRefusal(): GatewayError {
  return authError(
    "AUTH_DEVICE_TOKEN_MISMATCH",
    "unauthorized: device token mismatch (rotate or re-pair this device's token)",
    {
      authReason: "device_token_mismatch",
      recommendedNextStep: "update_auth_credentials",
    },
  );
}

/** Authenticates sockets and HTTP requests. */
export class Authenticator {
  #httpCalls = 0;
  readonly #backoff: AuthBackoff;
  constructor(private readonly deps: AuthenticatorDeps) {
    this.#backoff = new AuthBackoff(deps);
  }

  /** Rejects a protocol range the gateway cannot speak, naming both sides' versions. */
  checkProtocol(params: ConnectParams): void {
    const lightweight = (params.role === "node" && params.client.mode === "node") ||
      params.client.mode === "probe";
    const min = lightweight ? MIN_NODE_PROTOCOL : MIN_CLIENT_PROTOCOL;
    if (params.maxProtocol < min || params.minProtocol > PROTOCOL_VERSION) {
      throw new GatewayError(
        "INVALID_REQUEST",
        `protocol mismatch: client supports v${params.minProtocol}-v${params.maxProtocol}, gateway speaks v${PROTOCOL_VERSION} (minimum v${min}); update the client or the gateway`,
        {
          details: {
            code: "PROTOCOL_MISMATCH",
            clientMinProtocol: params.minProtocol,
            clientMaxProtocol: params.maxProtocol,
            expectedProtocol: PROTOCOL_VERSION,
            minProtocol: min,
          },
        },
      );
    }
  }

  /** Who a socket's `connect` is; one attempt at a time per client, its lockout checked first. */
  async authenticateSocket(params: ConnectParams, origin: SocketOrigin): Promise<SocketAuthResult> {
    this.checkProtocol(params);
    const who = this.deps.attribute(origin.remoteAddress, origin.headers);
    if (who.unattributable) {
      throw authError("AUTH_PROXY_ATTRIBUTION_REQUIRED", PROXY_ATTRIBUTION_MESSAGE, {
        authReason: "proxy_attribution_required",
        recommendedNextStep: "review_auth_configuration",
      });
    }
    const auth = this.deps.auth();
    const rateKey = this.#backoff.key(who, origin.headers);
    return await this.#backoff.run(rateKey, async () => {
      const limit = rateKey ? await this.#backoff.checkLockout(rateKey) : undefined;
      const attempt: SocketAttempt = {
        params,
        origin,
        who,
        rateKey,
        hadFailures: !!limit?.hits,
        base: { connId: origin.connId, role: params.role, client: params.client, remoteAddress: who.address },
        requestedScopes: params.role === "node" ? [] : [...new Set(params.scopes)],
      };
      return await this.#socketCredentials(attempt, auth);
    });
  }

  /** The connect's credentials in order: the proxy's word (its mode), a device token, the shared secret. */
  async #socketCredentials(attempt: SocketAttempt, auth: ResolvedAuth): Promise<SocketAuthResult> {
    const { params } = attempt;
    if (auth.mode === "trusted-proxy") {
      if (!passwordFallback(this.deps.auth(), attempt.who, params.auth?.password)) {
        return this.#viaTrustedProxy(attempt, auth);
      }
      auth = { ...auth, mode: "password" };
    }
    const check = checkSharedSecret(auth, params.auth?.token, params.auth?.password);
    const candidate = deviceTokenCandidate(params, check);
    // A device token's success forgives nothing: the counter guards the shared secret, and a paired
    // device (a node, say) must not be able to wipe its own wrong guesses at the gateway's password.
    const admitted = candidate && await this.#viaDeviceToken(attempt, check, candidate, auth);
    if (admitted) return admitted;
    if (!check.ok) {
      if (!check.missing) await this.#failed(attempt);
      throw secretRefusal(check, auth.mode);
    }
    await this.#forgive(attempt);
    return await this.#viaSharedSecret(attempt, check.method);
  }

  /** Counts a refused connect's wrong credential against its client (none for an exempt caller). */
  async #failed({ rateKey }: SocketAttempt): Promise<void> {
    if (rateKey) await this.#backoff.fail(rateKey);
  }

  /** Forgets the client's earlier failures, if it had any (so a success costs no store write). */
  async #forgive({ rateKey, hadFailures }: SocketAttempt): Promise<void> {
    if (rateKey && hadFailures) await this.#backoff.succeed(rateKey);
  }

  /** The proxy's user, with its identity's scopes; a refusal names the proxy check that failed. */
  #viaTrustedProxy({ params, origin, who, base }: SocketAttempt, auth: ResolvedAuth): SocketAuthResult {
    const user = trustedProxyUser(this.deps, {
      peer: origin.remoteAddress,
      headers: origin.headers,
      url: origin.url,
      who,
    });
    if ("reason" in user) {
      throw authError("AUTH_TRUSTED_PROXY_REJECTED", `unauthorized: ${user.message}`, {
        authReason: user.reason,
        recommendedNextStep: "review_auth_configuration",
      });
    }
    const scopes = identityScopes(auth, user.user, params.role, origin.headers);
    return { caller: { ...base, scopes, authMethod: "trusted-proxy" } };
  }

  /**
   * A device token admits the device it was issued to, proven by its key over this connection's nonce, in
   * the token's role, with the scopes asked for (or all it carries) and never beyond them. `undefined`:
   * the token admits nothing, but the shared secret was right, so it decides. A wrong token, or a proof
   * that fails while the shared secret is wrong too, is refused and counted.
   */
  async #viaDeviceToken(
    attempt: SocketAttempt,
    check: SecretCheck,
    candidate: DeviceTokenCandidate,
    auth: ResolvedAuth,
  ): Promise<SocketAuthResult | undefined> {
    const { params, origin, who, base, requestedScopes } = attempt;
    const proof = params.device!;
    try {
      await verifyDeviceProof(proof, proofContext(params, origin.nonce), this.deps.now());
    } catch (error) {
      if (!check.ok) await this.#failed(attempt);
      throw error;
    }
    const device = await this.#deviceTokenHolder(params, proof.id.toLowerCase(), candidate.token);
    if (!device) {
      if (check.ok) return undefined;
      await this.#failed(attempt);
      if (candidate.explicit) throw deviceTokenRefusal();
      throw secretRefusal(check, auth.mode, params.auth?.password === undefined);
    }
    const carried = device.tokens[params.role].scopes;
    const scopes = requestedScopes.length ? requestedScopes : carried;
    const beyond = scopes.filter((s) => !scopeSatisfied(carried, s));
    if (beyond.length) {
      throw authError("AUTH_SCOPE_MISMATCH", `device token does not cover scopes: ${beyond.join(", ")}`, {
        recommendedNextStep: "review_auth_configuration",
      });
    }
    if (params.role === "node") this.deps.nodeConnected?.(device, params, who.address);
    return { caller: { ...base, scopes, deviceId: device.deviceId, authMethod: "device-token" } };
  }

  /** The paired device `deviceId` if `token` is its live token for the connect's role. */
  async #deviceTokenHolder(
    params: ConnectParams,
    deviceId: string,
    token: string,
  ): Promise<PairedDevice | undefined> {
    const paired = await this.deps.devices.byToken(token);
    if (paired?.deviceId !== deviceId) return undefined;
    const entry = paired.tokens[params.role];
    const live = entry?.token === token && approvedRoles(paired).includes(params.role);
    return live ? paired : undefined;
  }

  /** After the shared secret: a device-less client gets the scopes its kind keeps; a device proves its key and pairs. */
  async #viaSharedSecret(attempt: SocketAttempt, method: string): Promise<SocketAuthResult> {
    const { params, origin, who, base, requestedScopes } = attempt;
    if (!params.device) {
      const scopes = deviceLessScopes(params.client, requestedScopes, origin.remoteAddress, origin.headers);
      return { caller: { ...base, scopes, authMethod: method } };
    }
    await verifyDeviceProof(params.device, proofContext(params, origin.nonce), this.deps.now());
    const device = await admittingPairing(this.deps, {
      params,
      peer: origin.remoteAddress,
      headers: origin.headers,
      remoteIp: who.address,
      scopes: requestedScopes,
    });
    const deviceId = params.device.id.toLowerCase();
    return this.#admitted(device, params, { ...base, scopes: requestedScopes, deviceId, authMethod: method });
  }

  /** A paired device admitted: its role's token goes back in `hello-ok`; a node's surface is looked at. */
  #admitted(device: PairedDevice, params: ConnectParams, caller: CallerIdentity): SocketAuthResult {
    if (params.role === "node") this.deps.nodeConnected?.(device, params, caller.remoteAddress ?? "");
    const { token, createdAtMs, rotatedAtMs } = device.tokens[params.role];
    return { caller, deviceToken: { token, issuedAtMs: rotatedAtMs ?? createdAtMs } };
  }

  /** The scopes a bearer operator device token reads with: `operator.read` if it carries it, else none. */
  async #deviceReader(bearer: string): Promise<string[] | undefined> {
    const device = await this.deps.devices.byToken(bearer);
    const entry = device?.tokens.operator;
    if (!device || entry?.token !== bearer || !approvedRoles(device).includes("operator")) return undefined;
    return scopeSatisfied(entry.scopes, "operator.read") ? ["operator.read"] : [];
  }

  /** An admitted HTTP caller (a method, not a closure per request: this runs on every request). */
  #httpCaller(who: ClientAttribution, method: string, scopes = DEFAULT_OPERATOR_SCOPES): HttpAuthResult {
    return {
      ok: true,
      caller: {
        connId: `http:${++this.#httpCalls}`,
        role: "operator",
        scopes,
        authMethod: method,
        remoteAddress: who.address,
      },
    };
  }

  /** Checks an HTTP caller: the shared token or password as a bearer, or trusted-proxy headers. */
  authenticateHttp(
    request: Request,
    info: RequestInfo,
    options?: HttpAuthOptions,
  ): HttpAuthResult | Promise<HttpAuthResult> {
    let auth = this.deps.auth();
    const who = this.deps.attribute(info.remoteAddress, request.headers);
    if (who.unattributable) return { ok: false, response: proxyAttributionRefusal() };
    // Identity-bearing modes: the proxy (or the operator, for `none`) may narrow scopes per request.
    if (auth.mode === "none") return this.#httpCaller(who, "none", headerScopes(request.headers));
    const header = request.headers.get("authorization") ?? "";
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    // Past this block in trusted-proxy mode, the caller is on the proxy's same-host password fallback.
    const fallback = auth.mode === "trusted-proxy";
    if (auth.mode === "trusted-proxy") {
      if (!passwordFallback(this.deps.auth(), who, bearer)) {
        const proxied = { peer: info.remoteAddress, headers: request.headers, url: request.url, who };
        const user = trustedProxyUser(this.deps, proxied);
        if ("reason" in user) {
          return user.reason === "proxy_attribution_required"
            ? { ok: false, response: proxyAttributionRefusal() }
            : httpRefusal(401, "unauthorized", `Unauthorized: ${user.message}`, { code: user.reason });
        }
        return this.#httpCaller(who, "trusted-proxy", headerScopes(request.headers));
      }
      auth = { ...auth, mode: "password" };
    }
    const key = this.#backoff.key(who, request.headers);
    // An exempt caller (no rate key) presenting the shared secret waits on no store, so it is answered
    // synchronously: the hot path (local tools polling /v1/models) pays for no promise.
    if (!key && bearer) {
      const check = checkSharedSecret(auth, bearer);
      if (check.ok) return this.#httpCaller(who, check.method);
    }
    return this.#backoff.run(key, async (): Promise<HttpAuthResult> => {
      const limit = key ? await this.#backoff.peek(key) : undefined;
      const retryAfter = limit?.retryAfterMs ?? 0;
      if (retryAfter > 0) return { ok: false, response: lockedOutResponse(retryAfter) };
      if (!bearer) return httpRefusal(401, "unauthorized", "Unauthorized");
      // The shared secret: a device token is bound to its device's key, which a bearer header cannot prove
      // (the reference's gateway HTTP routes refuse device tokens too), so one counts as a wrong guess,
      // except on the Control UI's own reads (`options.deviceTokens`), never in the proxy's fallback.
      const check = checkSharedSecret(auth, bearer);
      if (check.ok) {
        if (key && limit!.hits) await this.#backoff.succeed(key);
        return this.#httpCaller(who, check.method);
      }
      if (options?.deviceTokens && !fallback) {
        const reader = await this.#deviceReader(bearer);
        if (reader) return this.#httpCaller(who, "device-token", reader);
      }
      if (key) await this.#backoff.fail(key);
      return httpRefusal(401, "unauthorized", "Unauthorized");
    });
  }
}

/** An HTTP refusal in the gateway's error shape. */
function httpRefusal(status: number, type: string, message: string, extra: Record<string, unknown> = {}) {
  return { ok: false as const, response: jsonResponse({ error: { message, type, ...extra } }, status) };
}
