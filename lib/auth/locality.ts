/**
 * Whether a peer is the local machine, talking to the gateway directly (no proxy in between).
 *
 * @module
 */

const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-host"];

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, "");
  return a === "::1" || a === "localhost" || a.startsWith("127.") || a.startsWith("::ffff:127.");
}

/** Loopback peer and no forwarding headers: forwarding voids locality because a proxy may sit in front. */
export function isDirectLocal(address: string, headers: Headers): boolean {
  return isLoopbackAddress(address) && FORWARDING_HEADERS.every((h) => !headers.has(h));
}

/** The host a `gateway.bind` mode listens on. */
export function bindHostFor(bind: string | undefined, customHost: string | undefined): string {
  switch (bind ?? "loopback") {
    case "loopback":
      return "127.0.0.1";
    case "custom":
      return customHost || "127.0.0.1";
    default:
      return "0.0.0.0";
  }
}
