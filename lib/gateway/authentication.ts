/**
 * Who a request or socket comes from and whether it may in: client attribution behind trusted proxies,
 * the auth rate limiter, and the {@link Authenticator} every socket and HTTP route asks.
 *
 * @module
 */
import { Authenticator } from "../auth/authenticator.ts";
import { attributeClient, type ClientAttribution, type ProxySettings } from "../auth/client-address.ts";
import { normalizeIp } from "../net/ip.ts";
import { authRateLimitPolicy } from "../auth/rate-limit.ts";
import { announcePairingRequest } from "../methods/devices.ts";
import { noteNodeSurface } from "../methods/node-pairing.ts";
import { originRefusal } from "../ui/origin.ts";
import type { GatewayCore } from "./core.ts";
import type { GatewayOptions } from "./types.ts";

/** How long this host's interface addresses are reused before they are listed again. */
const HOST_ADDRESS_TTL_MS = 30_000;

/** A fresh device token: two ids' worth of randomness, as hex. */
export function deviceTokenFrom(newId: () => string): string {
  return newId().replace(/-/g, "") + newId().replace(/-/g, "");
}

/** The authenticator and the two ways to attribute a peer to a client address. */
export interface Authentication {
  /** Checks socket `connect` params and HTTP credentials. */
  readonly authenticator: Authenticator;
  /** Who a request comes from, address-wise: the forwarded client when the peer is a trusted proxy. */
  attribute(remoteAddress: string, headers: Headers): ClientAttribution;
  /** The attributed client address: what every per-client limit (auth, hooks, pre-auth caps) keys on. */
  clientAddress(remoteAddress: string, headers: Headers): string;
}

/** Creates the gateway's authentication; `options.transport` lists this host's addresses. */
export function createAuthentication(
  { state, now, newId, stores, logger }: Pick<GatewayCore, "state" | "now" | "newId" | "stores" | "logger">,
  options: Pick<GatewayOptions, "transport">,
): Authentication {
  const rateLimitPolicy = authRateLimitPolicy(state.config.gateway?.auth?.rateLimit);
  // Built once per config (a reload replaces the object), not once per request.
  let proxySettings: { config: unknown; settings: ProxySettings } | undefined;
  const attribute = (remoteAddress: string, headers: Headers) => {
    if (proxySettings?.config !== state.config) {
      proxySettings = {
        config: state.config,
        settings: {
          trustedProxies: state.config.gateway?.trustedProxies ?? [],
          allowRealIpFallback: state.config.gateway?.allowRealIpFallback ?? false,
        },
      };
    }
    return attributeClient(remoteAddress, headers, proxySettings.settings);
  };
  const clientAddress = (remoteAddress: string, headers: Headers) =>
    attribute(remoteAddress, headers).address;
  // Listing interfaces is a system call; every trusted-proxy request needs the answer, which changes
  // rarely. A failed listing is not kept, so the next request tries again.
  let hostAddressCache: { at: number; addresses: ReadonlySet<string> } | undefined;
  const hostAddresses = (): ReadonlySet<string> => {
    if (hostAddressCache && now() - hostAddressCache.at < HOST_ADDRESS_TTL_MS) {
      return hostAddressCache.addresses;
    }
    const addresses = new Set(
      (options.transport?.interfaceAddresses?.() ?? []).flatMap((a) => normalizeIp(a) ?? []),
    );
    hostAddressCache = { at: now(), addresses };
    return addresses;
  };
  const authenticator = new Authenticator({
    auth: () => state.auth,
    trustedProxies: () => state.config.gateway?.trustedProxies ?? [],
    attribute,
    interfaceAddresses: () => hostAddresses(),
    originRefusal: (headers, url) =>
      originRefusal(
        { remoteAddress: "", headers, url },
        state.config.gateway?.controlUi?.allowedOrigins ?? [],
      ),
    rateLimits: stores.rateLimits,
    rateLimitPolicy,
    exemptLoopback: () => state.config.gateway?.auth?.rateLimit?.exemptLoopback ?? true,
    devices: stores.devices,
    now,
    newToken: () => deviceTokenFrom(newId),
    newRequestId: newId,
    pairingRequested: (outcome) => announcePairingRequest(stores.bus, outcome, now()),
    nodeConnected: (device, params, remoteIp) =>
      void noteNodeSurface(
        { devices: stores.devices, events: stores.bus, now, newId },
        device,
        params,
        remoteIp,
      )
        .catch((error) =>
          logger.warn("node surface not recorded", { deviceId: device.deviceId, error: String(error) })
        ),
  });
  return { authenticator, attribute, clientAddress };
}
