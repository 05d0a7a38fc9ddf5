/**
 * Trusted-proxy auth: the checks a request passes before the gateway believes the user a reverse proxy
 * names (in the documented order; the first failure names its reason), the scopes that user gets, the
 * same-host password fallback, and the answer to proxy-shaped traffic nobody vouches for.
 *
 * @module
 */
import { jsonResponse } from "../http/response.ts";
import { normalizeIp } from "../net/ip.ts";
import { scopeSatisfied } from "../protocol/scopes.ts";
import type { ClientAttribution } from "./client-address.ts";
import { isLoopbackAddress } from "./locality.ts";
import { identityKey, type ResolvedAuth } from "./shared-secret.ts";

/** What the trusted-proxy checks need from the gateway. */
export interface TrustedProxyDeps {
  auth(): ResolvedAuth;
  trustedProxies(): readonly string[];
  /** This host's own addresses, normalized (see `normalizeIp`); throws when they cannot be listed. */
  interfaceAddresses(): ReadonlySet<string>;
  /** Why a browser `Origin` may not talk to the gateway (`gateway.controlUi.allowedOrigins`), if it may not. */
  originRefusal(headers: Headers, url: string): string | undefined;
}

/** A request as the trusted-proxy checks see it. */
export interface ProxiedRequest {
  /** The socket peer: the proxy, if the request came through one. */
  peer: string;
  headers: Headers;
  /** The request URL, for same-origin checks. */
  url: string;
  who: ClientAttribution;
}

/** Why a trusted-proxy request was refused: the documented reason code and a message naming the fix. */
export interface ProxyRejection {
  reason: string;
  message: string;
}

type TrustedProxy = NonNullable<ResolvedAuth["trustedProxy"]>;

/** Why forwarding headers that no trusted proxy vouches for are refused, and how to fix it. */
export const PROXY_ATTRIBUTION_MESSAGE =
  "proxy_attribution_required: the request carries forwarding headers but no trusted proxy names its client; add the proxy's address to gateway.trustedProxies and have it set X-Forwarded-For, or connect directly without forwarding headers";

/** The answer to proxy-shaped traffic nobody vouches for, on HTTP routes and WebSocket upgrades alike. */
export function proxyAttributionRefusal(): Response {
  return jsonResponse(
    { error: { message: PROXY_ATTRIBUTION_MESSAGE, type: "proxy_attribution_required" } },
    403,
  );
}

/**
 * In trusted-proxy mode a same-host caller that bypasses the proxy may use the configured password,
 * but only when nothing about the request suggests a proxy; a token is never a fallback.
 */
export function passwordFallback(
  auth: ResolvedAuth,
  who: ClientAttribution,
  presented: string | undefined,
): boolean {
  return presented !== undefined && auth.password !== undefined && !who.proxied &&
    !who.forwarded && isLoopbackAddress(who.address);
}

/** The user a trusted proxy vouches for, or why the request is refused (the checks in their documented order). */
export function trustedProxyUser(
  deps: TrustedProxyDeps,
  request: ProxiedRequest,
): { user: string } | ProxyRejection {
  const proxy = deps.auth().trustedProxy;
  if (!proxy) {
    return {
      reason: "trusted_proxy_config_missing",
      message: "gateway.auth.trustedProxy is not configured; set at least its userHeader",
    };
  }
  if (!deps.trustedProxies().length) {
    return {
      reason: "trusted_proxy_no_proxies_configured",
      message: "gateway.trustedProxies is empty; list the reverse proxy's address there",
    };
  }
  const rejection = sourceRejection(deps, request, proxy);
  if (rejection) return rejection;
  const user = forwardedUser(request.headers, proxy);
  if ("reason" in user) return user;
  // A proxy-verified user's browser can still be driven by another site's page.
  const { headers, url } = request;
  const origin = headers.has("origin") ? deps.originRefusal(headers, url) : undefined;
  return origin ? { reason: "trusted_proxy_origin_not_allowed", message: origin } : user;
}

/** Refuses a request that did not come from a trusted proxy on another host (or an allowed loopback one). */
function sourceRejection(
  deps: TrustedProxyDeps,
  { peer, who }: ProxiedRequest,
  proxy: TrustedProxy,
): ProxyRejection | undefined {
  if (!who.peerTrusted && !who.unattributable) {
    return {
      reason: "trusted_proxy_untrusted_source",
      message: `request did not come through a trusted proxy (peer ${peer} is not in gateway.trustedProxies)`,
    };
  }
  if (!who.forwarded || isLoopbackAddress(who.address)) {
    return { reason: "proxy_attribution_required", message: PROXY_ATTRIBUTION_MESSAGE };
  }
  if (!isLoopbackAddress(peer)) return ownAddressRejection(deps, peer);
  if (proxy.allowLoopback) return undefined;
  return {
    reason: "trusted_proxy_loopback_source",
    message:
      `trusted proxy ${peer} is a loopback address; set gateway.auth.trustedProxy.allowLoopback to trust a same-host proxy`,
  };
}

/** Refuses a peer that is one of this host's own addresses (a same-host spoof), or when that cannot be ruled out. */
function ownAddressRejection(deps: TrustedProxyDeps, peer: string): ProxyRejection | undefined {
  let local: ReadonlySet<string>;
  try {
    local = deps.interfaceAddresses();
  } catch {
    return {
      reason: "trusted_proxy_local_interface_check_failed",
      message: "could not list this host's network interfaces to rule out same-host spoofing",
    };
  }
  const source = normalizeIp(peer);
  if (source && local.has(source)) {
    return {
      reason: "trusted_proxy_local_interface_source",
      message: `request came from ${peer}, one of this host's own addresses, not from the proxy`,
    };
  }
  return undefined;
}

/** The user the proxy names, once it set every required header and the user is allowed. */
function forwardedUser(headers: Headers, proxy: TrustedProxy): { user: string } | ProxyRejection {
  for (const name of proxy.requiredHeaders) {
    if (!headers.get(name)?.trim()) {
      return {
        reason: `trusted_proxy_missing_header_${name}`,
        message: `trusted proxy did not set required header ${name}`,
      };
    }
  }
  const user = headers.get(proxy.userHeader)?.trim();
  if (!user) {
    return {
      reason: "trusted_proxy_user_missing",
      message: `trusted proxy did not set ${proxy.userHeader}`,
    };
  }
  if (proxy.allowUsers.length && !proxy.allowUsers.includes(user)) {
    return {
      reason: "trusted_proxy_user_not_allowed",
      message: `user ${user} is not in gateway.auth.trustedProxy.allowUsers`,
    };
  }
  return { user };
}

/**
 * Reads `x-openclaw-scopes`, by which an identity-bearing mode (trusted proxy, or `none`) narrows a
 * caller's scopes: absent → `undefined`, present → its (possibly empty) comma list.
 */
export function headerScopes(headers: Headers): string[] | undefined {
  const value = headers.get("x-openclaw-scopes");
  if (value === null) return undefined;
  return [...new Set(value.split(",").map((s) => s.trim()).filter(Boolean))];
}

/** A proxy-verified user's socket scopes: the identity's grant decides, the proxy's header may only narrow it. */
export function identityScopes(auth: ResolvedAuth, user: string, role: string, headers: Headers): string[] {
  const granted = role === "node" ? [] : auth.identityScopes.get(identityKey(user)) ?? [];
  return narrowScopes(granted, headerScopes(headers));
}

/** The scopes both sets allow: each one's entries the other satisfies (admin ∧ read = read). */
function narrowScopes(granted: readonly string[], cap: readonly string[] | undefined): string[] {
  if (!cap) return [...granted];
  const meet = new Set([
    ...granted.filter((s) => scopeSatisfied(cap, s)),
    ...cap.filter((s) => scopeSatisfied(granted, s)),
  ]);
  return [...meet];
}
