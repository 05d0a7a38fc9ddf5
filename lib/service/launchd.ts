/**
 * launchd installer: a per-user LaunchAgent `ai.openclaw.gateway` (`ai.openclaw.<profile>`) in
 * `~/Library/LaunchAgents`, controlled with `launchctl bootstrap|bootout|kickstart` in the `gui/<uid>`
 * domain. Secrets stay out of the plist: a `/bin/sh` loader sources the owner-only env file first.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import { notInstalled, runChecked, runTolerant } from "./command.ts";
import { compareDefinition, type ParsedDefinition, readInstalledDefinition } from "./definition.ts";
import { syncEnvFile } from "./env-file.ts";
import { isDefaultProfile, serviceName } from "./identity.ts";
import { joinWith } from "./paths.ts";
import { parsePlist, type PlistValue, renderPlist } from "./plist.ts";
import { SERVICE_OPEN_FILES_LIMIT } from "./spec.ts";
import type {
  InstallerBaseOptions,
  InstallOutcome,
  ServiceInstaller,
  ServiceSpec,
  ServiceState,
} from "./types.ts";

/** What the launchd installer needs from its host. */
export interface LaunchdInstallerOptions extends InstallerBaseOptions {
  uid: number;
  /** Where system daemons live; default `/Library/LaunchDaemons`. */
  systemDaemonDir?: string;
}

/** launchd starts agents with a bare PATH; this one finds Homebrew and system tools. */
export const LAUNCHD_PATH =
  "/opt/homebrew/bin:/opt/homebrew/sbin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

const ENV_LOADER = 'if [ -f "$0" ]; then set -a; . "$0"; set +a; fi; exec "$@"';

/** Renders the LaunchAgent plist. */
export function renderLaunchdPlist(
  label: string,
  spec: ServiceSpec,
  envFile: string,
  logFile: string,
): string {
  return renderPlist({
    Label: label,
    ProgramArguments: ["/bin/sh", "-c", ENV_LOADER, envFile, ...spec.programArguments],
    EnvironmentVariables: { PATH: LAUNCHD_PATH, ...spec.environment },
    WorkingDirectory: spec.workingDirectory,
    RunAtLoad: true,
    KeepAlive: true,
    ThrottleInterval: 5,
    ProcessType: "Background",
    SoftResourceLimits: { NumberOfFiles: SERVICE_OPEN_FILES_LIMIT },
    HardResourceLimits: { NumberOfFiles: SERVICE_OPEN_FILES_LIMIT },
    StandardOutPath: logFile,
    StandardErrorPath: logFile,
  });
}

/** Reads the gateway argv (without the env loader) and environment back out of a plist. */
export function parseLaunchdPlist(text: string): ParsedDefinition {
  const root = parsePlist(text) as Record<string, PlistValue>;
  const argv = Array.isArray(root.ProgramArguments) ? root.ProgramArguments.map(String) : [];
  const wrapped = argv[0] === "/bin/sh" && argv[1] === "-c" && argv[2] === ENV_LOADER;
  const envDict = (root.EnvironmentVariables ?? {}) as Record<string, PlistValue>;
  const environment = Object.fromEntries(Object.entries(envDict).map(([key, value]) => [key, String(value)]));
  return wrapped
    ? { programArguments: argv.slice(4), environment, envFiles: [argv[3]] }
    : { programArguments: argv, environment, envFiles: [] };
}

/** Creates the launchd installer for one profile. */
export function createLaunchdInstaller(options: LaunchdInstallerOptions): ServiceInstaller {
  const label = serviceName("launchd", options.profile, options.env);
  const { run, files } = options;
  const definitionPath = joinWith("/", options.homeDir, "Library", "LaunchAgents", `${label}.plist`);
  const logFolder = joinWith("/", options.homeDir, "Library", "Logs", "openclaw");
  const logFile = joinWith(
    "/",
    logFolder,
    isDefaultProfile(options.profile) ? "gateway.log" : `gateway-${options.profile}.log`,
  );
  const envFolder = joinWith("/", options.stateDir, "service-env");
  const envFile = joinWith("/", envFolder, `${label}.env`);
  const domain = `gui/${options.uid}`;
  const target = `${domain}/${label}`;
  const daemonPath = joinWith("/", options.systemDaemonDir ?? "/Library/LaunchDaemons", `${label}.plist`);

  const isLoaded = async () => (await runTolerant(run, "launchctl", ["print", target])).code === 0;
  const load = async () => {
    await runChecked(run, "launchctl", ["enable", target]);
    await runChecked(
      run,
      "launchctl",
      ["bootstrap", domain, definitionPath],
      "Log in to the macOS desktop as this user and retry.",
    );
  };
  // Two KeepAlive managers for one label would restart each other's gateway forever, so a system
  // daemon with our label blocks every user-agent action; unknown ownership fails closed.
  const refuseWhenSystemDaemon = async () => {
    const daemonFile = await files.readText(daemonPath) !== undefined;
    const daemonLoaded = (await runTolerant(run, "launchctl", ["print", `system/${label}`])).code === 0;
    if (!daemonFile && !daemonLoaded) return;
    throw new GatewayError(
      "INVALID_REQUEST",
      `a system LaunchDaemon with label ${label} already manages the gateway; refusing to manage a user LaunchAgent ` +
        `next to it. Keep the daemon (and set OPENCLAW_SERVICE_REPAIR_POLICY=external), or remove it with ` +
        `\`sudo launchctl bootout system/${label}\` and delete ${daemonPath}.`,
    );
  };

  return {
    kind: "launchd",
    name: label,
    definitionPath,
    logs: logFile,

    async install(spec: ServiceSpec, { force = false } = {}): Promise<InstallOutcome> {
      await refuseWhenSystemDaemon();
      const plist = renderLaunchdPlist(label, spec, envFile, logFile);
      const change = await compareDefinition(files, definitionPath, plist, force);
      await syncEnvFile(files, envFolder, envFile, spec.secrets);
      await files.mkdir(logFolder);
      if (change === "same") {
        if (!await isLoaded()) await load();
        return "unchanged";
      }
      if (change === "changed") await runTolerant(run, "launchctl", ["bootout", target]);
      await files.writeText(definitionPath, plist, { mode: 0o644 });
      await load();
      return change === "new" ? "installed" : "updated";
    },

    async uninstall(): Promise<boolean> {
      if (await files.readText(definitionPath) === undefined) return false;
      await runTolerant(run, "launchctl", ["bootout", target]);
      await files.remove(definitionPath);
      await files.remove(envFile);
      return true;
    },

    async start(): Promise<void> {
      await refuseWhenSystemDaemon();
      if (await files.readText(definitionPath) === undefined) throw notInstalled(definitionPath);
      if (await isLoaded()) await runChecked(run, "launchctl", ["kickstart", target]);
      else await load();
    },

    async stop({ disable = false } = {}): Promise<boolean> {
      if (await files.readText(definitionPath) === undefined) return false;
      // bootout removes the agent from this boot session only; KeepAlive stays armed for the next load.
      if (await isLoaded()) await runChecked(run, "launchctl", ["bootout", target]);
      if (disable) await runChecked(run, "launchctl", ["disable", target]);
      return true;
    },

    async restart(): Promise<void> {
      await refuseWhenSystemDaemon();
      if (await files.readText(definitionPath) === undefined) throw notInstalled(definitionPath);
      if (await isLoaded()) await runChecked(run, "launchctl", ["kickstart", "-k", target]);
      else await load();
    },

    async status(): Promise<ServiceState> {
      const installed = await files.readText(definitionPath) !== undefined;
      const result = await runTolerant(run, "launchctl", ["print", target]);
      if (result.code !== 0) return { installed, loaded: false, runtime: installed ? "stopped" : "unknown" };
      const state = /^\s*state = (\S+)/m.exec(result.stdout)?.[1] ?? "unknown";
      const pid = Number(/^\s*pid = (\d+)/m.exec(result.stdout)?.[1] ?? 0);
      const exit = /^\s*last exit code = (.+)$/m.exec(result.stdout)?.[1];
      return {
        installed,
        loaded: true,
        runtime: state === "running" ? "running" : state === "unknown" ? "unknown" : "stopped",
        ...(pid > 0 ? { pid } : {}),
        detail: `${state}${exit ? `, last exit code ${exit}` : ""}`,
      };
    },

    readInstalled: () => readInstalledDefinition(files, definitionPath, parseLaunchdPlist),
  };
}
