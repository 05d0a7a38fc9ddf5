/**
 * Who the client is, address-wise: the socket peer, or — only when that peer is a configured trusted
 * proxy — the client address the proxy forwarded. Every per-client limit keys on this, so clients
 * behind one reverse proxy do not share (or escape) each other's budgets.
 *
 * @module
 */
import { formatIp, ipInList, isLoopbackIp, normalizeIp, parseIp } from "../net/ip.ts";

/** The settings attribution depends on (`gateway.trustedProxies`, `gateway.allowRealIpFallback`). */
export interface ProxySettings {
  trustedProxies: readonly string[];
  allowRealIpFallback: boolean;
}

/** Where a request came from. */
export interface ClientAttribution {
  /** The address limits, logs and callers see: the forwarded client when attributed, else the peer. */
  address: string;
  /** `address` came from a trusted proxy's forwarding headers. */
  forwarded: boolean;
  /** The socket peer is in `trustedProxies`. */
  peerTrusted: boolean;
  /** A loopback or trusted peer sent `Forwarded`, `X-Forwarded-*` or `X-Real-IP` (other peers' are ignored). */
  proxied: boolean;
  /**
   * Proxy-shaped traffic nobody vouches for: forwarding headers from a loopback peer that is not a
   * trusted proxy, or from a trusted proxy that named no usable client. Gateway-auth routes refuse it.
   */
  unattributable: boolean;
}

/**
 * The headers proxies add: RFC 7239, X-Real-IP and the X-Forwarded-* family nginx, HAProxy, Traefik,
 * Envoy, Caddy and oauth2-proxy set. A fixed list, because walking every header of every local request
 * to look for the prefix costs more than the rest of authentication.
 */
const FORWARDING_HEADERS = [
  "forwarded",
  "x-forwarded-for",
  "x-real-ip",
  ...[
    "host",
    "proto",
    "port",
    "prefix",
    "server",
    "ssl",
    "scheme",
    "uri",
    "client-cert",
    "user",
    "email",
    "preferred-username",
    "groups",
    "access-token",
  ].map((suffix) => `x-forwarded-${suffix}`),
];

/**
 * True when a header a proxy adds is present; such evidence voids "this is a local caller". Asked with
 * `has`, not `get` or iteration. On a request Deno.serve handed over, each `get` of a name is a call into
 * the native side, while the first `has` copies the header list into JS once and every later lookup
 * (this loop's, the authenticator's `get`s) scans that copy; Deno copies the list after the response
 * anyway, so the copy costs nothing extra, and the 17 native calls were the check's main cost (timed
 * in-handler on Deno 2.9: ~0.95 µs for the `has` loop against ~1.45 µs for the `get` loop with 2 request
 * headers, ~1.2 against ~1.75 with 10). Iterating sorts the list first (~1.0 µs with 2 headers, ~2.5
 * with 10); on a plain `Headers` (the hardened engine, Node) `has` and `get` scan the same list alike.
 */
export function hasForwardingHeaders(headers: Headers): boolean {
  for (let i = 0; i < FORWARDING_HEADERS.length; i++) {
    if (headers.has(FORWARDING_HEADERS[i])) return true;
  }
  return false;
}

/** What a peer address is, parsed once: peers repeat, and every local request asks. */
interface PeerFacts {
  bytes: Uint8Array | undefined;
  address: string;
  loopback: boolean;
  /** The `trustedProxies` list `trusted` was computed for (config reloads replace the array). */
  trustedIn?: readonly string[];
  trusted: boolean;
  /**
   * The attribution of this peer's requests that carry no forwarding header (nearly all of them), made
   * once rather than per request; frozen, since every such request shares it.
   */
  direct: ClientAttribution;
}

const peers = new Map<string, PeerFacts>();
/** Bounded so a scan from many addresses cannot grow it; a full cache simply starts over. */
const MAX_PEERS = 1024;

function peerFacts(peer: string, trustedProxies: readonly string[]): PeerFacts {
  let facts = peers.get(peer);
  if (!facts) {
    if (peers.size >= MAX_PEERS) peers.clear();
    const bytes = parseIp(peer);
    const address = bytes ? formatIp(bytes) : peer;
    facts = {
      bytes,
      address,
      loopback: !!bytes && isLoopbackIp(bytes),
      trusted: false,
      direct: directAttribution(address, false),
    };
    peers.set(peer, facts);
  }
  if (facts.trustedIn !== trustedProxies) {
    facts.trusted = !!facts.bytes && ipInList(facts.bytes, trustedProxies);
    facts.trustedIn = trustedProxies;
    facts.direct = directAttribution(facts.address, facts.trusted);
  }
  return facts;
}

function directAttribution(address: string, peerTrusted: boolean): ClientAttribution {
  return Object.freeze({ address, forwarded: false, peerTrusted, proxied: false, unattributable: false });
}

/** Strips an optional port (`1.2.3.4:80`, `[::1]:80`) and quotes from one forwarded address. */
function hopAddress(raw: string): string | undefined {
  let s = raw.trim().replace(/^"|"$/g, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  return normalizeIp(s);
}

/** The `for=` values of an RFC 7239 `Forwarded` header, in hop order. */
function forwardedFor(value: string): string[] {
  const hops: string[] = [];
  for (const element of value.split(",")) {
    for (const pair of element.split(";")) {
      const eq = pair.indexOf("=");
      if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === "for") hops.push(pair.slice(eq + 1));
    }
  }
  return hops;
}

/**
 * The client a hop list names: walking from the proxy back towards the client, the first hop that is
 * not itself a trusted proxy (the right-most untrusted hop; earlier entries are client-controlled).
 */
function clientFromChain(hops: string[], trusted: readonly string[]): string | undefined {
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i]);
    if (!hop) return undefined;
    if (i === 0 || !ipInList(hop, trusted)) return hop;
  }
  return undefined;
}

function forwardedClient(headers: Headers, settings: ProxySettings): string | undefined {
  const xff = headers.get("x-forwarded-for");
  if (xff !== null) return clientFromChain(xff.split(","), settings.trustedProxies);
  const forwarded = headers.get("forwarded");
  if (forwarded !== null) return clientFromChain(forwardedFor(forwarded), settings.trustedProxies);
  const realIp = settings.allowRealIpFallback ? headers.get("x-real-ip") : null;
  return realIp === null ? undefined : hopAddress(realIp);
}

/** Attributes a request to a client address (see {@link ClientAttribution}). */
export function attributeClient(peer: string, headers: Headers, settings: ProxySettings): ClientAttribution {
  const facts = peerFacts(peer, settings.trustedProxies);
  const { address, loopback, trusted: peerTrusted } = facts;
  // Nothing to look at for an untrusted remote peer: its headers are its own claims and are ignored.
  const proxied = (peerTrusted || loopback) && hasForwardingHeaders(headers);
  if (!proxied) return facts.direct;
  if (peerTrusted) {
    const client = forwardedClient(headers, settings);
    if (client) return { address: client, forwarded: true, peerTrusted, proxied, unattributable: false };
  }
  return { address, forwarded: false, peerTrusted, proxied, unattributable: true };
}
