/**
 * Where a profile keeps its state, config and logs: `~/.openclaw` for the default profile,
 * `~/.openclaw-<name>` for `--profile <name>` (and `--dev`, which is profile `dev`), with
 * `OPENCLAW_STATE_DIR` / `OPENCLAW_CONFIG_PATH` / `OPENCLAW_HOME` overrides as OpenClaw documents them.
 *
 * @module
 */
import { join, resolve } from "./paths.ts";
import type { ProfilePaths } from "../command.ts";
import { CliError, EXIT } from "./errors.ts";

/** The inputs that decide a profile's paths. */
export interface ProfileInputs {
  dev: boolean;
  /** `--profile <name>` as given, if any. */
  profile?: string;
  env: Record<string, string | undefined>;
  /** The OS account home, used when no env variable names one. */
  osHome: string;
}

/** The dev profile's base port (its gateway's, and where the operator commands look with `--dev`). */
export const DEV_PORT = 19001;

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The profile name in force: `--dev` → `dev`, then `--profile`, then `OPENCLAW_PROFILE`, else `default`. */
export function resolveProfileName(inputs: Pick<ProfileInputs, "dev" | "profile" | "env">): string {
  const name = inputs.dev ? "dev" : inputs.profile ?? inputs.env.OPENCLAW_PROFILE ?? "default";
  if (!PROFILE_NAME.test(name)) {
    throw new CliError(
      `invalid profile name "${name}": use letters, digits, "-" or "_" (at most 64 characters)`,
      EXIT.usage,
    );
  }
  return name;
}

/** The home directory defaults hang off: `OPENCLAW_HOME` > `HOME` > `USERPROFILE` > the OS account home. */
export function resolveHome(env: Record<string, string | undefined>, osHome: string): string {
  return env.OPENCLAW_HOME || env.HOME || env.USERPROFILE || osHome;
}

/** The canonical state dir of a profile under `home`. */
export function canonicalStateDir(home: string, profile: string): string {
  return join(home, profile === "default" ? ".openclaw" : `.openclaw-${profile}`);
}

/** Expands a leading `~` the way a shell would have, for paths given through env variables. */
export function expandHome(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return resolve(path);
}

/**
 * Resolves the active profile's paths. An explicit profile replaces a state dir that is merely another
 * profile's canonical one (inherited from a parent shell), but keeps a customised one.
 */
export function resolveProfilePaths(inputs: ProfileInputs): ProfilePaths {
  const profile = resolveProfileName(inputs);
  const home = resolveHome(inputs.env, inputs.osHome);
  const canonical = canonicalStateDir(home, profile);
  const explicitProfile = inputs.dev || inputs.profile !== undefined;
  const envState = inputs.env.OPENCLAW_STATE_DIR
    ? expandHome(inputs.env.OPENCLAW_STATE_DIR, home)
    : undefined;
  const stateDir = envState && !(explicitProfile && isCanonicalStateDir(envState, home))
    ? envState
    : canonical;
  const envConfig = inputs.env.OPENCLAW_CONFIG_PATH
    ? expandHome(inputs.env.OPENCLAW_CONFIG_PATH, home)
    : undefined;
  const configPath = envConfig && !(explicitProfile && isCanonicalConfigPath(envConfig, home))
    ? envConfig
    : join(stateDir, "openclaw.json");
  return { profile, stateDir, configPath, logDir: join(stateDir, "logs") };
}

function isCanonicalStateDir(dir: string, home: string): boolean {
  const base = join(home, ".openclaw");
  return dir === base || (dir.startsWith(`${base}-`) && !dir.slice(base.length).includes("/"));
}

function isCanonicalConfigPath(path: string, home: string): boolean {
  return path.endsWith("/openclaw.json") &&
    isCanonicalStateDir(path.slice(0, -"/openclaw.json".length), home);
}
