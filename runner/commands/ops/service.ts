/**
 * The gateway service as the operator commands see it: the installer for this host and profile, what
 * the installed definition records, and how that drifted from the current config.
 *
 * @module
 */
import { GatewayError } from "../../../lib/errors.ts";
import { createServiceInstaller, type InstallerHost } from "../../../lib/service/select.ts";
import { recordedPort } from "../../../lib/service/spec.ts";
import type { InstalledService, ServiceInstaller, ServiceState } from "../../../lib/service/types.ts";
import type { CliContext } from "../../command.ts";
import type { OpsHost } from "./host.ts";

/** The installer inputs for this host and the active profile. */
export function installerHost(host: OpsHost, ctx: CliContext): InstallerHost {
  return {
    platform: host.platform,
    run: host.run,
    files: host.files,
    profile: ctx.paths.profile,
    env: ctx.env,
    homeDir: host.homeDir(ctx.env),
    stateDir: ctx.paths.stateDir,
    uid: host.uid(),
    systemUnitDir: host.systemUnitDir,
    systemDaemonDir: host.systemDaemonDir,
  };
}

/** The installer, or the reason there is none (unsupported OS, bad profile name for services). */
export function findInstaller(
  host: OpsHost,
  ctx: CliContext,
): { installer?: ServiceInstaller; reason?: string } {
  try {
    return { installer: createServiceInstaller(installerHost(host, ctx)) };
  } catch (err) {
    return { reason: err instanceof Error ? err.message : String(err) };
  }
}

/** One way the installed service disagrees with the current config. */
export interface AuditIssue {
  code: "port-drift" | "config-path-drift" | "state-dir-drift" | "missing-port";
  message: string;
}

/** What the service should record, from the CLI's own resolution. */
export interface ServiceExpectation {
  port: number;
  configPath: string;
  stateDir: string;
}

/** Compares the installed definition with what the config asks for now. */
export function auditService(installed: InstalledService, expected: ServiceExpectation): AuditIssue[] {
  const issues: AuditIssue[] = [];
  const port = recordedPort(installed.programArguments);
  if (port === undefined) {
    issues.push({
      code: "missing-port",
      message: "the service command records no --port; it will use whatever the config says at start",
    });
  } else if (port !== expected.port) {
    issues.push({
      code: "port-drift",
      message:
        `Gateway service port does not match current gateway config (service --port ${port}, config ${expected.port}). ` +
        "Run `openclaw doctor --fix` or `openclaw gateway install --force`.",
    });
  }
  const configPath = installed.environment.OPENCLAW_CONFIG_PATH;
  if (configPath && configPath !== expected.configPath) {
    issues.push({
      code: "config-path-drift",
      message: `the service reads ${configPath}, this shell uses ${expected.configPath}`,
    });
  }
  const stateDir = installed.environment.OPENCLAW_STATE_DIR;
  if (stateDir && stateDir !== expected.stateDir) {
    issues.push({
      code: "state-dir-drift",
      message: `the service uses state dir ${stateDir}, this shell uses ${expected.stateDir}`,
    });
  }
  return issues;
}

const SECRET_KEYS = /TOKEN|PASSWORD|SECRET|KEY/i;

/** The installed environment with secret values masked, for printing. */
export function redactEnvironment(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([k, v]) => [k, SECRET_KEYS.test(k) ? "***" : v]),
  );
}

/** The service facts `gateway status` and doctor share. */
export interface ServiceSnapshot {
  installer?: ServiceInstaller;
  reason?: string;
  state?: ServiceState;
  installed?: InstalledService;
}

/** Inspects the service without changing anything; failures become `reason`. */
export async function inspectService(host: OpsHost, ctx: CliContext): Promise<ServiceSnapshot> {
  const { installer, reason } = findInstaller(host, ctx);
  if (!installer) return { reason };
  try {
    const [state, installed] = await Promise.all([installer.status(), installer.readInstalled()]);
    return { installer, state, installed };
  } catch (err) {
    return {
      installer,
      reason: err instanceof GatewayError || err instanceof Error ? err.message : String(err),
    };
  }
}
