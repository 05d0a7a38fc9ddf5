/**
 * Groups client addresses for per-address limits.
 *
 * @module
 */
import { formatIp, isMappedIpv4, parseIp } from "./ip.ts";

/**
 * What the per-address cap counts by: an IPv4 address (IPv4-mapped ones too) alone, an IPv6 address by
 * its /64, since one host is routinely handed a whole /64 to pick addresses from — except a link-local one
 * (`fe80::/10`), alone: every host on the link shares that /64.
 */
export function addressBucket(address: string): string {
  const bytes = parseIp(address);
  if (!bytes) return address;
  if (isMappedIpv4(bytes) || (bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80)) return formatIp(bytes);
  const prefix = bytes.slice();
  prefix.fill(0, 8);
  return `${formatIp(prefix)}/64`;
}
