/**
 * The one place the runner parses flags. `node:util` parseArgs does the work; this seam turns its
 * errors into one line a person can act on and keeps the flag table the help text is printed from.
 *
 * @module
 */
import { parseArgs } from "node:util";
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
 * Parses `args` against `table`. Unknown options and missing values become a {@link CliError} that names
 * the option and the help command to run (`commandName` is e.g. `openclaw gateway`).
 */
export function parseFlags(args: string[], table: FlagTable, commandName: string): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, def] of Object.entries({ ...COMMON_FLAGS, ...table })) {
    options[name] = {
      type: def.type,
      ...(def.short ? { short: def.short } : {}),
      ...(def.multiple ? { multiple: true } : {}),
    };
  }
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { flags: values as FlagValues, positionals };
  } catch (err) {
    throw new CliError(`${describeParseError(err)}. Try: ${commandName} --help`, EXIT.usage);
  }
}

function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const unknown = message.match(/Unknown option '([^']+)'/);
  if (unknown) return `unknown option "${unknown[1]}"`;
  const missing = message.match(/Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/);
  if (missing) return `option "${missing[1]}" needs a value`;
  const notString = message.match(/Option '(?:-\w, )?(--[\w-]+)[^']*' does not take an argument/);
  if (notString) return `option "${notString[1]}" takes no value`;
  return message.split("\n")[0].replace(/\.$/, "");
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
