/**
 * Which browser origins may open a gateway socket: `gateway.controlUi.allowedOrigins` (`"*"` = any),
 * the seeded `http://localhost:<port>` and `http://127.0.0.1:<port>`, and same-origin pages served from
 * loopback, private-network, `.local` or `.ts.net` hosts. Clients that send no `Origin` (CLIs, SDKs)
 * are not browsers and pass.
 *
 * @module
 */
import { isPrivateIp } from "../net/ip.ts";
import type { SocketRequestInfo } from "../types.ts";

/** Returns why `info`'s origin is refused, or undefined when it may connect. */
export function originRefusal(
  info: SocketRequestInfo,
  allowedOrigins: readonly string[],
): string | undefined {
  const origin = info.headers.get("origin");
  if (!origin) return undefined;
  if (allowedOrigins.includes("*") || allowedOrigins.includes(origin)) return undefined;
  let port: string;
  try {
    const url = new URL(info.url);
    port = url.port || (url.protocol === "https:" || url.protocol === "wss:" ? "443" : "80");
  } catch {
    port = "";
  }
  if (origin === `http://localhost:${port}` || origin === `http://127.0.0.1:${port}`) return undefined;
  let originUrl: URL;
  try {
    originUrl = new URL(origin);
  } catch {
    return `origin not allowed: ${origin.slice(0, 60)}`;
  }
  const host = info.headers.get("host");
  if (host && originUrl.host === host && isPrivateHost(originUrl.hostname)) return undefined;
  return `origin not allowed: ${origin.slice(0, 60)} (add it to gateway.controlUi.allowedOrigins)`;
}

function isPrivateHost(hostname: string): boolean {
  const name = hostname.toLowerCase();
  if (name === "localhost" || name.endsWith(".local") || name.endsWith(".ts.net")) return true;
  // Only address literals are private addresses: a name's first letters say nothing about where it resolves.
  return isPrivateIp(name);
}
