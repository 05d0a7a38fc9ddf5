/**
 * Which scopes a client that proved only the shared secret (token or password, no device identity) keeps.
 *
 * The shared secret says "someone who knows the gateway's secret", not "this client": a page, a script or
 * a probe can all present it. So, as the reference gateway does, such a client gets the role but no scopes
 * until it pairs a device identity. Two clients keep what they asked for, both only when they talk to the
 * gateway directly from this machine and are no browser (no `Origin`): the local backend
 * (`gateway-client` in mode `backend`) and the `openclaw` CLI (`cli` in mode `cli`); the reference calls
 * these the local backend self-pairing and the local CLI shared-auth exceptions.
 *
 * @module
 */
import type { ConnectParams } from "../protocol/frames.ts";
import { isDirectLocal } from "./locality.ts";

/** Client id + mode pairs that keep their requested scopes on a direct local, non-browser connect. */
const LOCAL_TRUSTED_CLIENTS: ReadonlySet<string> = new Set(["gateway-client/backend", "cli/cli"]);

/** The scopes a device-less shared-secret client is granted: `requested`, or none. */
export function deviceLessScopes(
  client: ConnectParams["client"],
  requested: readonly string[],
  remoteAddress: string,
  headers: Headers,
): string[] {
  const trusted = LOCAL_TRUSTED_CLIENTS.has(`${client.id}/${client.mode}`) &&
    isDirectLocal(remoteAddress, headers) && !headers.get("origin")?.trim();
  return trusted ? [...requested] : [];
}
