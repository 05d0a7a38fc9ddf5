/**
 * The shape every CLI command implements, so `runner/main.ts` can dispatch without knowing them.
 *
 * @module
 */
import type { FlagTable } from "./cli/args.ts";

/** Where output goes; tests capture it instead of printing. */
export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

/** Files and folders of the active profile (`--dev`, `--profile <name>`, env overrides applied). */
export interface ProfilePaths {
  profile: string;
  stateDir: string;
  configPath: string;
  logDir: string;
}

/** Everything a command needs from the process, passed in so commands run in tests without one. */
export interface CliContext {
  output: CliOutput;
  env: Record<string, string | undefined>;
  paths: ProfilePaths;
  dev: boolean;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); long-running commands await it. */
  shutdownSignal: AbortSignal;
}

/** One CLI command, e.g. `["gateway", "status"]`. */
export interface RunnerCommand {
  path: string[];
  summary: string;
  /** Flags for the generated `--help`; commands that list none print only their summary. */
  flags?: FlagTable;
  /** Positional arguments as shown in help, e.g. `<path> <value>`. */
  usage?: string;
  /** Returns the process exit code. `args` are the words after the command path. */
  run(args: string[], context: CliContext): Promise<number>;
}
