/**
 * Picks the installer for the host OS: systemd on Linux, launchd on macOS, Task Scheduler on Windows.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import { createLaunchdInstaller } from "./launchd.ts";
import { createScheduledTaskInstaller } from "./schtasks.ts";
import { createSystemdInstaller } from "./systemd.ts";
import type { InstallerBaseOptions, ServiceInstaller } from "./types.ts";

/** The host facts every installer draws from. */
export interface InstallerHost extends InstallerBaseOptions {
  /** `linux`, `darwin` or `windows` (anything else has no supported service manager). */
  platform: string;
  /** The user id (launchd's `gui/<uid>` domain). */
  uid?: number;
  /** Overrides for where system-level services live (tests point these at a temp dir). */
  systemUnitDir?: string;
  systemDaemonDir?: string;
}

/** The installer for `host.platform`; throws a plain message on unsupported systems. */
export function createServiceInstaller(host: InstallerHost): ServiceInstaller {
  switch (host.platform) {
    case "linux":
      return createSystemdInstaller({ ...host, systemUnitDir: host.systemUnitDir });
    case "darwin":
      return createLaunchdInstaller({ ...host, uid: host.uid ?? 501 });
    case "windows":
      return createScheduledTaskInstaller(host);
    default:
      throw new GatewayError(
        "UNAVAILABLE",
        `no supported service manager on ${host.platform}; run \`openclaw gateway run\` under your own supervisor.`,
      );
  }
}
