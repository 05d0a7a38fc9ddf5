/**
 * Help text, generated from the command list and each command's flag table.
 *
 * @module
 */
import type { RunnerCommand } from "../command.ts";
import type { FlagTable } from "./args.ts";

/** Global flags, accepted before the command name. */
export const GLOBAL_FLAGS: FlagTable = {
  dev: { type: "boolean", description: "Use the dev profile (~/.openclaw-dev, port 19001)" },
  profile: {
    type: "string",
    valueName: "<name>",
    description: "Use ~/.openclaw-<name> for state and config",
  },
  "log-level": { type: "string", valueName: "<level>", description: "Override the log level for this run" },
  "no-color": { type: "boolean", description: "Disable ANSI colours" },
  version: { type: "boolean", short: "V", description: "Print the version" },
  help: { type: "boolean", short: "h", description: "Show help" },
};

/** Renders a flag table as aligned `--name <value>  description` lines. */
export function renderFlags(flags: FlagTable): string[] {
  const rows = Object.entries(flags).map(([name, def]) => {
    const short = def.short ? `-${def.short}, ` : "    ";
    const value = def.type === "string" ? ` ${def.valueName ?? "<value>"}` : "";
    return [`${short}--${name}${value}`, def.description] as const;
  });
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`);
}

/** `openclaw --help`: usage, global flags and one line per command. */
export function renderRootHelp(commands: RunnerCommand[], version: string): string {
  const width = Math.max(...commands.map((c) => c.path.join(" ").length));
  return [
    `openclaw ${version}: run and operate an OpenClaw-compatible gateway`,
    "",
    "Usage: openclaw [--dev | --profile <name>] <command> [options]",
    "",
    "Global options:",
    ...renderFlags(GLOBAL_FLAGS),
    "",
    "Commands:",
    ...[...commands].sort((a, b) => a.path.join(" ").localeCompare(b.path.join(" ")))
      .map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`),
    "",
    "Run `openclaw <command> --help` for a command's options.",
  ].join("\n");
}

/** `openclaw <command> --help`: usage, flags, and the subcommands under this path. */
export function renderCommandHelp(command: RunnerCommand, subcommands: RunnerCommand[]): string {
  const name = `openclaw ${command.path.join(" ")}`;
  const lines = [`Usage: ${name}${command.usage ? ` ${command.usage}` : ""} [options]`, "", command.summary];
  if (command.flags && Object.keys(command.flags).length) {
    lines.push("", "Options:", ...renderFlags(command.flags));
  }
  if (subcommands.length) {
    const width = Math.max(...subcommands.map((c) => c.path.join(" ").length));
    lines.push(
      "",
      "Subcommands:",
      ...subcommands.map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`),
    );
  }
  return lines.join("\n");
}
