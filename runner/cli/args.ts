/**
 * The one place the runner parses flags, with `node:util` parseArgs' rules (strict, positionals allowed)
 * but without loading it: the gateway path stays off Deno's Node compatibility layer. Errors are one line
 * a person can act on; the flag table is also what the help text is printed from.
 *
 * @module
 */
import { CliError, EXIT } from "./errors.ts";

/** One flag a command accepts. */
export interface FlagDefinition {
  type: "string" | "boolean";
  description: string;
  short?: string;
  /** Placeholder shown in help, e.g. `<port>`. */
  valueName?: string;
  multiple?: boolean;
}

/** A command's flags by long name (without the leading `--`). */
export type FlagTable = Record<string, FlagDefinition>;

/** Flag values by long name; a repeated `multiple` flag gives an array. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** The outcome of {@link parseFlags}. */
export interface ParsedArgs {
  flags: FlagValues;
  positionals: string[];
}

/** Flags every command accepts. */
export const COMMON_FLAGS: FlagTable = {
  help: { type: "boolean", short: "h", description: "Show help for this command" },
};

/**
 * Parses `args` against `table` as `node:util` parseArgs does in strict mode with positionals allowed
 * (`--name value`, `--name=value`, `-n value`, `-nvalue`, grouped short booleans, `--` ends the flags).
 * Unknown options and missing values become a {@link CliError} that names the option and the help
 * command to run (`commandName` is e.g. `openclaw gateway`).
 */
export function parseFlags(args: string[], table: FlagTable, commandName: string): ParsedArgs {
  const flags = { ...COMMON_FLAGS, ...table };
  const fail = (problem: string): never => {
    throw new CliError(`${problem}. Try: ${commandName} --help`, EXIT.usage);
  };
  const values: FlagValues = Object.create(null);
  const positionals: string[] = [];
  const rest = [...args];
  for (let arg = rest.shift(); arg !== undefined; arg = rest.shift()) {
    if (arg === "--") {
      positionals.push(...rest);
      break;
    }
    const option = splitOption(arg, flags, rest);
    if (!option) {
      positionals.push(arg);
      continue;
    }
    const def = flagOf(flags, option.name);
    if (!def) return fail(`unknown option "${option.raw}"`);
    let value = option.value;
    if (def.type === "string" && value === undefined && !option.inline && rest.length > 0) {
      value = rest.shift();
    }
    if (def.type === "string" && value === undefined) fail(`option "--${option.name}" needs a value`);
    if (def.type === "boolean" && value !== undefined) fail(`option "--${option.name}" takes no value`);
    if (!option.inline && value !== undefined && value.length > 1 && value.startsWith("-")) {
      // parseArgs' own wording, which this parser's users have always seen for `--port --force`.
      fail(`Option '${option.raw}' argument is ambiguous`);
    }
    const stored = value ?? true;
    const earlier = values[option.name];
    values[option.name] = def.multiple
      ? [...(Array.isArray(earlier) ? earlier : []), stored] as string[]
      : stored;
  }
  return { flags: values, positionals };
}

function flagOf(flags: FlagTable, name: string): FlagDefinition | undefined {
  return Object.hasOwn(flags, name) ? flags[name] : undefined;
}

/** One option token: its long name, how it was written, and a value written into the same argument. */
interface OptionToken {
  name: string;
  raw: string;
  value?: string;
  inline: boolean;
}

/**
 * Reads `arg` as an option, or undefined for a positional. A group of short flags (`-abc`) is split into
 * `rest`'s front, up to a string flag that takes the group's remainder as its value.
 */
function splitOption(arg: string, flags: FlagTable, rest: string[]): OptionToken | undefined {
  if (arg.startsWith("--") && arg.length > 2) {
    const eq = arg.indexOf("=", 3);
    if (eq < 0) return { name: arg.slice(2), raw: arg, inline: false };
    return { name: arg.slice(2, eq), raw: arg, value: arg.slice(eq + 1), inline: true };
  }
  if (!arg.startsWith("-") || arg.length < 2) return undefined;
  const longOf = (short: string) =>
    Object.entries(flags).find(([, def]) => def.short === short)?.[0] ?? short;
  const name = longOf(arg[1]);
  if (arg.length === 2) return { name, raw: arg, inline: false };
  if (flagOf(flags, name)?.type === "string") return { name, raw: arg, value: arg.slice(2), inline: true };
  const group: string[] = [];
  for (let i = 1; i < arg.length; i++) {
    const takesRest = i < arg.length - 1 && flagOf(flags, longOf(arg[i]))?.type === "string";
    group.push(takesRest ? `-${arg.slice(i)}` : `-${arg[i]}`);
    if (takesRest) break;
  }
  rest.unshift(...group);
  return splitOption(rest.shift()!, flags, rest);
}

/** Reads a string flag; `undefined` when absent. */
export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  if (Array.isArray(value)) return value.at(-1);
  return typeof value === "string" ? value : undefined;
}

/** Reads an integer flag, rejecting anything that is not a whole number in `[min, max]`. */
export function intFlag(flags: FlagValues, name: string, min: number, max: number): number | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CliError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`, EXIT.usage);
  }
  return value;
}

/** Reads one of a fixed set of string values. */
export function choiceFlag<T extends string>(
  flags: FlagValues,
  name: string,
  choices: readonly T[],
): T | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new CliError(`--${name} must be one of ${choices.join("|")}, got "${raw}"`, EXIT.usage);
  }
  return raw as T;
}
