/**
 * The contract every OS service installer implements, and the seams (command runner, files) that keep
 * them testable without a real init system.
 *
 * @module
 */

/** What one OS command printed and how it exited. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The program does not exist on this host (spawn failed with ENOENT). */
  notFound?: boolean;
}

/** Runs an OS command (`systemctl`, `launchctl`, `schtasks`); tests record calls instead. */
export type CommandRunner = (command: string, args: string[]) => Promise<CommandResult>;

/** File access the installers need; writes are atomic (temp file + rename). */
export interface ServiceFiles {
  /** The file's text, or `undefined` when it does not exist. */
  readText(path: string): Promise<string | undefined>;
  /** Writes atomically, creating parent folders; `mode` applies to the file. */
  writeText(path: string, text: string, options?: { mode?: number }): Promise<void>;
  /** Removes a file; a missing file is fine. */
  remove(path: string): Promise<void>;
  /** Permission bits (e.g. `0o600`), or `undefined` when the path does not exist. */
  mode(path: string): Promise<number | undefined>;
  chmod(path: string, mode: number): Promise<void>;
  mkdir(path: string, mode?: number): Promise<void>;
  /** Removes a folder that is empty (a failed install undoing the folders it made). */
  removeEmptyFolder?(path: string): Promise<void>;
  /** Entry names in a folder; a missing folder lists as empty. */
  list(path: string): Promise<string[]>;
}

/** What every installer needs from its host. */
export interface InstallerBaseOptions {
  run: CommandRunner;
  files: ServiceFiles;
  /** The active profile (`default` for the unnamed one); it picks the service's name. */
  profile: string;
  env: Record<string, string | undefined>;
  /** The OS account home, where per-user service definitions live. */
  homeDir: string;
  stateDir: string;
}

/** Which init system an installer drives. */
export type ServiceKind = "systemd" | "launchd" | "schtasks";

/** Everything that defines the supervised gateway process, independent of the init system. */
export interface ServiceSpec {
  description: string;
  /** The full argv: program first. */
  programArguments: string[];
  workingDirectory: string;
  /** Non-secret variables, written into the service definition. */
  environment: Record<string, string>;
  /** Secret variables, written only to the owner-only env file the definition points at. */
  secrets: Record<string, string>;
}

/** What the installed definition says, read back for drift checks. */
export interface InstalledService {
  path: string;
  programArguments: string[];
  environment: Record<string, string>;
}

/** Runtime state as the init system reports it. */
export interface ServiceState {
  installed: boolean;
  /** Known to the init system (loaded unit, bootstrapped agent, registered task). */
  loaded: boolean;
  runtime: "running" | "stopped" | "unknown";
  pid?: number;
  /** Extra facts worth printing (sub-state, last exit status). */
  detail?: string;
}

/** The outcome of {@link ServiceInstaller.install}. */
export type InstallOutcome = "installed" | "unchanged" | "updated";

/** One init system's way of installing and controlling the gateway service. */
export interface ServiceInstaller {
  readonly kind: ServiceKind;
  /** Unit name, launchd label or task name. */
  readonly name: string;
  /** Where the definition file lives. */
  readonly definitionPath: string;
  /** Where the service's output goes, as a path or a command to read it. */
  readonly logs: string;
  /**
   * Writes the definition and registers it. Reinstalling the same definition is a no-op; a different one
   * needs `force` (so a stale service is never silently retargeted).
   */
  install(spec: ServiceSpec, options?: { force?: boolean }): Promise<InstallOutcome>;
  /** Stops, unregisters and removes the definition; returns whether anything was installed. */
  uninstall(): Promise<boolean>;
  start(): Promise<void>;
  /** Stops the service; `disable` also keeps it from starting again at login/boot. A missing service is a no-op. */
  stop(options?: { disable?: boolean }): Promise<boolean>;
  restart(): Promise<void>;
  status(): Promise<ServiceState>;
  readInstalled(): Promise<InstalledService | undefined>;
}
