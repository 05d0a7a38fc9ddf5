/**
 * Best-effort search for other gateway-like services on this host (other profiles, system-level units,
 * leftovers from older installs), for `gateway status --deep` and doctor.
 *
 * @module
 */
import { runTolerant } from "./command.ts";
import { joinWith } from "./paths.ts";
import type { InstallerHost } from "./select.ts";

/** One service definition that looks like a gateway. */
export interface FoundService {
  kind: "systemd" | "launchd" | "schtasks";
  scope: "user" | "system";
  name: string;
  path?: string;
}

const GATEWAY_LIKE = /openclaw|clawdbot|moltbot/i;

async function scanFolder(
  host: InstallerHost,
  folder: string,
  kind: FoundService["kind"],
  scope: FoundService["scope"],
  suffix: string,
): Promise<FoundService[]> {
  const names = await host.files.list(folder);
  return names
    .filter((name) => name.endsWith(suffix) && GATEWAY_LIKE.test(name))
    .map((name) => ({
      kind,
      scope,
      name: kind === "launchd" ? name.slice(0, -suffix.length) : name,
      path: joinWith("/", folder, name),
    }));
}

/** Every gateway-like service found, except the one named `ownName` in the user scope. */
export async function scanGatewayServices(host: InstallerHost, ownName: string): Promise<FoundService[]> {
  let found: FoundService[] = [];
  if (host.platform === "linux") {
    const userDir = joinWith(
      "/",
      host.env.XDG_CONFIG_HOME || joinWith("/", host.homeDir, ".config"),
      "systemd",
      "user",
    );
    found = [
      ...await scanFolder(host, userDir, "systemd", "user", ".service"),
      ...await scanFolder(host, host.systemUnitDir ?? "/etc/systemd/system", "systemd", "system", ".service"),
    ];
  } else if (host.platform === "darwin") {
    found = [
      ...await scanFolder(
        host,
        joinWith("/", host.homeDir, "Library", "LaunchAgents"),
        "launchd",
        "user",
        ".plist",
      ),
      ...await scanFolder(
        host,
        host.systemDaemonDir ?? "/Library/LaunchDaemons",
        "launchd",
        "system",
        ".plist",
      ),
    ];
  } else if (host.platform === "windows") {
    const listed = await runTolerant(host.run, "schtasks", ["/Query", "/FO", "CSV", "/NH"]);
    const names = new Set(
      listed.stdout.split(/\r?\n/).map((line) => /^"\\?([^"]+)"/.exec(line)?.[1]).filter((n): n is string =>
        !!n
      ),
    );
    found = [...names].filter((name) => GATEWAY_LIKE.test(name)).map((name) => ({
      kind: "schtasks",
      scope: "user",
      name,
    }));
  }
  return found.filter((service) => !(service.scope === "user" && service.name === ownName));
}
