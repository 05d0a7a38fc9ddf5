/**
 * Global flags, command lookup, help and error reporting. Knows nothing about what commands do.
 *
 * @module
 */
import type { CliContext, CliOutput, RunnerCommand } from "../command.ts";
import { CliError, EXIT } from "./errors.ts";
import type { CommandCatalog } from "./lazy-commands.ts";
import { hintPrefix, rewriteHints } from "./invocation.ts";
import { resolveProfilePaths } from "./profile-paths.ts";

/** What the dispatcher needs from the process; `runner/main.ts` fills it from Deno, tests from fakes. */
export interface CliRuntime {
  output: CliOutput;
  env: Record<string, string | undefined>;
  osHome: string;
  shutdownSignal: AbortSignal;
  /** The commands, or a catalog that imports only the one a run needs. */
  commands: RunnerCommand[] | CommandCatalog;
  version: string;
  /**
   * How the CLI was started (`openclaw`, `deno task openclaw`, ...); suggested commands use it. A function
   * is asked only when a message quotes a command, so runs that print none pay nothing for it.
   */
  invokedAs?: string | (() => string);
}

/** Global flags as read from the front of argv. */
export interface GlobalFlags {
  dev: boolean;
  profile?: string;
  logLevel?: string;
  noColor: boolean;
  help: boolean;
  version: boolean;
}

/** Splits leading global flags from the command words and its arguments. */
export function parseGlobalFlags(argv: string[]): { globals: GlobalFlags; rest: string[] } {
  const globals: GlobalFlags = { dev: false, noColor: false, help: false, version: false };
  let i = 0;
  const valueOf = (flag: string): string => {
    const token = argv[i];
    if (token.includes("=")) return token.slice(token.indexOf("=") + 1);
    const next = argv[++i];
    if (next === undefined || next.startsWith("-")) {
      throw new CliError(`option "${flag}" needs a value. Try: openclaw --help`, EXIT.usage);
    }
    return next;
  };
  for (; i < argv.length && argv[i].startsWith("-"); i++) {
    const flag = argv[i].split("=")[0];
    if (flag === "--dev") globals.dev = true;
    else if (flag === "--profile") globals.profile = valueOf(flag);
    else if (flag === "--log-level") globals.logLevel = valueOf(flag);
    else if (flag === "--no-color") globals.noColor = true;
    else if (flag === "--help" || flag === "-h") globals.help = true;
    else if (flag === "--version" || flag === "-V") globals.version = true;
    else throw new CliError(`unknown option "${argv[i]}". Try: openclaw --help`, EXIT.usage);
  }
  if (globals.dev && globals.profile !== undefined && globals.profile !== "dev") {
    throw new CliError(`--dev and --profile ${globals.profile} conflict; pass one of them`, EXIT.usage);
  }
  return { globals, rest: argv.slice(i) };
}

/** The command whose path is the longest prefix of `words`, with the words after it. */
export function findCommand(
  commands: RunnerCommand[],
  words: string[],
): { command: RunnerCommand; args: string[] } | undefined {
  let best: RunnerCommand | undefined;
  for (const command of commands) {
    const matches = command.path.every((part, index) => words[index] === part);
    if (matches && command.path.length > (best?.path.length ?? 0)) best = command;
  }
  return best ? { command: best, args: words.slice(best.path.length) } : undefined;
}

function subcommandsOf(commands: RunnerCommand[], path: string[]): RunnerCommand[] {
  return commands.filter((c) => c.path.length > path.length && path.every((part, i) => c.path[i] === part));
}

function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** The help renderer, imported only when help is printed (a running command never needs it). */
const help = () => import("./help.ts");

/** Runs one CLI invocation and returns its exit code; never throws. */
export async function runCli(argv: string[], runtime: CliRuntime): Promise<number> {
  let output = runtime.output;
  const json = argv.includes("--json");
  try {
    const { globals, rest } = parseGlobalFlags(argv);
    let hints: { command: string; prefix: string } | undefined;
    output = hintingOutput(runtime.output, () => {
      if (hints) return hints;
      const asked = runtime.invokedAs;
      const command = (typeof asked === "function" ? asked() : asked) ?? "openclaw";
      return hints = { command, prefix: hintPrefix(command, globals) };
    });
    if (globals.version) {
      output.out(runtime.version);
      return EXIT.ok;
    }
    const commands = Array.isArray(runtime.commands)
      ? runtime.commands
      : await runtime.commands.commandsFor(rest, globals.help || wantsHelp(rest));
    if (rest.length === 0) {
      output.out((await help()).renderRootHelp(commands, runtime.version));
      return globals.help ? EXIT.ok : EXIT.usage;
    }
    const found = findCommand(commands, rest);
    if (!found) {
      const group = subcommandsOf(commands, [rest[0]]);
      if (group.length === 0) {
        throw new CliError(`unknown command "${rest[0]}". Try: openclaw --help`, EXIT.usage);
      }
      output.out(
        (await help()).renderCommandHelp({
          path: [rest[0]],
          summary: `${rest[0]} commands`,
          run: () => Promise.resolve(0),
        }, group),
      );
      return wantsHelp(rest) || globals.help ? EXIT.ok : EXIT.usage;
    }
    if (globals.help || wantsHelp(found.args)) {
      output.out(
        (await help()).renderCommandHelp(found.command, subcommandsOf(commands, found.command.path)),
      );
      return EXIT.ok;
    }
    const env = { ...runtime.env };
    if (globals.logLevel) env.OPENCLAW_LOG_LEVEL = globals.logLevel;
    if (globals.noColor) env.NO_COLOR = "1";
    const context: CliContext = {
      output,
      env,
      paths: resolveProfilePaths({ dev: globals.dev, profile: globals.profile, env, osHome: runtime.osHome }),
      dev: globals.dev || (!globals.profile && env.OPENCLAW_PROFILE === "dev"),
      shutdownSignal: runtime.shutdownSignal,
    };
    return await found.command.run(found.args, context);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const code = err instanceof CliError ? err.exitCode : EXIT.failure;
    if (json) output.out(JSON.stringify({ ok: false, error: { type: "cli_error", message } }));
    else output.err(`openclaw: ${message}`);
    return code;
  }
}

/** Output whose suggested commands read as this run was started. */
function hintingOutput(output: CliOutput, hints: () => { command: string; prefix: string }): CliOutput {
  const rewrite = (text: string) => {
    if (!text.includes("openclaw")) return text;
    const { command, prefix } = hints();
    return rewriteHints(text, command, prefix);
  };
  return { out: (text) => output.out(rewrite(text)), err: (text) => output.err(rewrite(text)) };
}
