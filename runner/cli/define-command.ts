/**
 * Builds a {@link RunnerCommand} from a flag table and a handler that receives parsed flags, so every
 * command gets the same parsing and error wording (the dispatcher answers `--help` from the table).
 *
 * @module
 */
import type { CliContext, RunnerCommand } from "../command.ts";
import { type FlagTable, type ParsedArgs, parseFlags } from "./args.ts";

/** What {@link defineCommand} needs. */
export interface CommandDefinition {
  path: string[];
  summary: string;
  flags: FlagTable;
  usage?: string;
  run(parsed: ParsedArgs, context: CliContext): Promise<number>;
}

/** A command whose `run` parses its flags before calling the handler. */
export function defineCommand(definition: CommandDefinition): RunnerCommand {
  return {
    path: definition.path,
    summary: definition.summary,
    flags: definition.flags,
    usage: definition.usage,
    run(args, context) {
      return definition.run(
        parseFlags(args, definition.flags, `openclaw ${definition.path.join(" ")}`),
        context,
      );
    },
  };
}
