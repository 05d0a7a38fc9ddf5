/**
 * Groups client addresses for per-address limits.
 *
 * @module
 */

/**
 * What the per-address cap counts by: an IPv4 address (IPv4-mapped ones too) alone, an IPv6 address by
 * its /64, since one host is routinely handed a whole /64 to pick addresses from.
 */
export function addressBucket(address: string): string {
  const a = address.toLowerCase().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (!a.includes(":")) return a;
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/.test(a)) return a.slice(7);
  const [head, tail] = a.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined
    ? left
    : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return `${groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(":")}::/64`;
}
