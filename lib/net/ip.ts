/**
 * IP address literals: parsing (IPv4, IPv6, IPv4-mapped IPv6), CIDR matching and the address classes
 * the gateway's trust decisions depend on. Hostnames are never addresses here: a name that merely looks
 * like one (`fdevil.example`) must not pass for a private IPv6 literal.
 *
 * @module
 */

/** 16 bytes; IPv4 addresses are held in their IPv4-mapped IPv6 form so one matcher serves both. */
type Bytes = Uint8Array;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

function parseIpv4(text: string, out: Bytes, at: number): boolean {
  const m = IPV4.exec(text);
  if (!m) return false;
  for (let i = 0; i < 4; i++) {
    const octet = Number(m[i + 1]);
    // Leading zeros read as octal in some resolvers; refusing them keeps one meaning per string.
    if (octet > 255 || (m[i + 1].length > 1 && m[i + 1][0] === "0")) return false;
    out[at + i] = octet;
  }
  return true;
}

function parseGroups(text: string, out: Bytes, from: number, max: number): number | undefined {
  if (text === "") return 0;
  const parts = text.split(":");
  let at = from;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (i === parts.length - 1 && part.includes(".")) {
      if (at + 4 - from > max || !parseIpv4(part, out, at)) return undefined;
      at += 4;
    } else {
      if (!HEX_GROUP.test(part) || at + 2 - from > max) return undefined;
      const value = parseInt(part, 16);
      out[at] = value >> 8;
      out[at + 1] = value & 0xff;
      at += 2;
    }
  }
  return at - from;
}

/** Parses an address literal (brackets and an IPv6 zone allowed) into 16 bytes, or `undefined`. */
export function parseIp(text: string): Bytes | undefined {
  let s = text.trim().toLowerCase();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const out = new Uint8Array(16);
  if (!s.includes(":")) {
    if (!parseIpv4(s, out, 12)) return undefined;
    out[10] = out[11] = 0xff;
    return out;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  if (halves.length === 1) return parseGroups(s, out, 0, 16) === 16 ? out : undefined;
  const head = parseGroups(halves[0], out, 0, 14);
  if (head === undefined) return undefined;
  const tail = new Uint8Array(16);
  const tailLength = parseGroups(halves[1], tail, 0, 14 - head);
  if (tailLength === undefined) return undefined;
  out.set(tail.subarray(0, tailLength), 16 - tailLength);
  return out;
}

/** Whether `b` is an IPv4 address (parsed addresses hold IPv4 in its IPv4-mapped IPv6 form). */
export function isMappedIpv4(b: Bytes): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** Canonical text: dotted quad for IPv4 (and IPv4-mapped), RFC 5952 for IPv6. */
export function formatIp(b: Bytes): string {
  if (isMappedIpv4(b)) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  let bestAt = -1, bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestAt, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLength).join(":")}`;
}

/** The canonical form of an address literal, or `undefined` when `text` is not one. */
export function normalizeIp(text: string): string | undefined {
  const bytes = parseIp(text);
  return bytes && formatIp(bytes);
}

/** One parsed `trustedProxies`-style entry. */
interface Cidr {
  bytes: Bytes;
  prefix: number;
}

/** Parses `addr` or `addr/prefix`; an IPv4 prefix counts within the IPv4-mapped range. */
export function parseCidr(entry: string): Cidr | undefined {
  const [addr, bits, extra] = entry.trim().split("/");
  if (extra !== undefined) return undefined;
  const bytes = parseIp(addr);
  if (!bytes) return undefined;
  const v4 = !addr.includes(":");
  const max = v4 ? 32 : 128;
  if (bits === undefined) return { bytes, prefix: 128 };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return { bytes, prefix: Number(bits) + (v4 ? 96 : 0) };
}

function inCidr(ip: Bytes, cidr: Cidr): boolean {
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i] & mask) !== (cidr.bytes[i] & mask)) return false;
  }
  return true;
}

// Config lists are replaced, never mutated, on reload, so the array itself keys its parsed form.
const compiled = new WeakMap<readonly string[], Cidr[]>();

/** Whether `address` falls in any of `entries` (addresses or CIDRs; unparsable entries never match). */
export function ipInList(address: string | Bytes, entries: readonly string[]): boolean {
  if (!entries.length) return false;
  const ip = typeof address === "string" ? parseIp(address) : address;
  if (!ip) return false;
  let cidrs = compiled.get(entries);
  if (!cidrs) {
    cidrs = entries.map(parseCidr).filter((c): c is Cidr => c !== undefined);
    compiled.set(entries, cidrs);
  }
  return cidrs.some((cidr) => inCidr(ip, cidr));
}

const LOOPBACK = ["127.0.0.0/8", "::1"];
const PRIVATE = [
  ...LOOPBACK,
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "169.254.0.0/16",
  // Tailscale's CGNAT range.
  "100.64.0.0/10",
  "fc00::/7",
  "fe80::/10",
];

/** Answers for recent address strings: a request asks several times, and parsing is most of the cost. */
const loopbackAnswers = new Map<string, boolean>();
/** Bounds the answers a client rotating addresses can make this keep; the map starts over past it. */
const LOOPBACK_ANSWERS_MAX = 1_024;

/** True for 127.0.0.0/8 and ::1 literals (IPv4-mapped forms included). */
export function isLoopbackIp(address: string | Bytes): boolean {
  if (typeof address !== "string") return ipInList(address, LOOPBACK);
  let answer = loopbackAnswers.get(address);
  if (answer === undefined) {
    answer = ipInList(address, LOOPBACK);
    if (loopbackAnswers.size >= LOOPBACK_ANSWERS_MAX) loopbackAnswers.clear();
    loopbackAnswers.set(address, answer);
  }
  return answer;
}

/** True for loopback, RFC 1918, link-local, CGNAT and unique-local literals; hostnames are never private. */
export function isPrivateIp(address: string): boolean {
  return ipInList(address, PRIVATE);
}
