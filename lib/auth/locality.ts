/**
 * Whether a peer is the local machine, talking to the gateway directly (no proxy in between).
 *
 * @module
 */
import { hasForwardingHeaders } from "./client-address.ts";
import { isLoopbackIp } from "../net/ip.ts";

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms (and the name `localhost`). */
export function isLoopbackAddress(address: string): boolean {
  return address.toLowerCase() === "localhost" || isLoopbackIp(address);
}

/** Loopback peer and no forwarding headers: forwarding voids locality because a proxy may sit in front. */
export function isDirectLocal(address: string, headers: Headers): boolean {
  return isLoopbackAddress(address) && !hasForwardingHeaders(headers);
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
