/**
 * Gateways running under other profiles of this user (`~/.openclaw-dev`, `~/.openclaw-<name>`), found by
 * their live state-dir locks. When the default target is down, the likely reason is that the gateway the
 * person started is one of these (`task dev` runs the dev profile on 19001).
 *
 * @module
 */
import { join } from "node:path";
import { lockPath, pidAlive, readLockOwner } from "../../gateway/lock.ts";

/** A gateway holding another profile's lock. */
export interface OtherGateway {
  profile: string;
  port?: number;
  pid: number;
}

/** Live gateways of other profiles under `home`, the current state dir excluded. */
export async function otherProfileGateways(home: string, currentStateDir: string): Promise<OtherGateway[]> {
  const found: OtherGateway[] = [];
  let entries: Deno.DirEntry[] = [];
  try {
    entries = await Array.fromAsync(Deno.readDir(home));
  } catch {
    return found;
  }
  for (const entry of entries) {
    const match = entry.name.match(/^\.openclaw(?:-(.+))?$/);
    if (!match || !entry.isDirectory) continue;
    const stateDir = join(home, entry.name);
    if (stateDir === currentStateDir) continue;
    const owner = await readLockOwner(lockPath(stateDir));
    if (!owner || !pidAlive(owner.pid)) continue;
    found.push({
      profile: match[1] ?? "default",
      pid: owner.pid,
      ...(owner.port ? { port: owner.port } : {}),
    });
  }
  return found.sort((a, b) => a.profile.localeCompare(b.profile));
}

/** One line per other gateway, with the command that reaches it. */
export function otherGatewayHints(found: OtherGateway[], command: string): string[] {
  return found.map((g) => {
    // Always a flag, `--profile default` too: hints are rewritten to carry the run's own profile flag
    // unless they name one, and a bare command would point a `--dev` user back at the dev gateway.
    const flag = g.profile === "dev" ? "--dev" : `--profile ${g.profile}`;
    const port = g.port ? ` on port ${g.port}` : "";
    return `A gateway is running for the ${g.profile} profile${port} (pid ${g.pid}): \`openclaw ${flag} ${command}\` talks to it.`;
  });
}
