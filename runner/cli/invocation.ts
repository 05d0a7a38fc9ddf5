/**
 * How this CLI was started, so the commands a message suggests can be pasted as they are: `openclaw` when
 * one is on the PATH, else the `deno task` (through npx when npx started Deno), with the global profile
 * flags of this run (a hint that dropped `--dev` would talk to another gateway).
 *
 * @module
 */
import { delimiter, join } from "./paths.ts";

/** What {@link invokedAs} reads from the process. */
export interface InvocationFacts {
  env: Record<string, string | undefined>;
  /** Whether an executable file exists at `path`. */
  isExecutable(path: string): boolean;
  denoVersion: string;
}

/** The command a person types to run this CLI again. */
export function invokedAs(facts: InvocationFacts): string {
  const { env } = facts;
  if (env.OPENCLAW_CLI_NAME) return env.OPENCLAW_CLI_NAME;
  const onPath = (env.PATH ?? "").split(delimiter).some((dir) =>
    dir && facts.isExecutable(join(dir, "openclaw"))
  );
  if (onPath) return "openclaw";
  // npm exec (npx) marks its children; Deno from npx is then the npm `deno` package at this version.
  if (env.npm_command === "exec" && /\bdeno\b/.test(env.npm_lifecycle_script ?? "")) {
    return `npx --yes deno@${facts.denoVersion} task openclaw`;
  }
  return "deno task openclaw";
}

/** The prefix hints use: the command plus the profile flags of this run. */
export function hintPrefix(command: string, globals: { dev: boolean; profile?: string }): string {
  if (globals.dev) return `${command} --dev`;
  if (globals.profile) return `${command} --profile ${globals.profile}`;
  return command;
}

/**
 * Rewrites the `openclaw …` commands quoted in a message (`` `openclaw x` ``, `Try: openclaw x`) to start
 * as `prefix` does; a hint that names its own profile flag keeps it and gets only the command.
 */
export function rewriteHints(text: string, command: string, prefix: string): string {
  if (prefix === "openclaw") return text;
  return text.replace(
    /(`|Try: )openclaw(?=[ `])( --dev\b| --profile\b)?/g,
    (_, lead: string, own: string | undefined) => own ? `${lead}${command}${own}` : `${lead}${prefix}`,
  );
}
