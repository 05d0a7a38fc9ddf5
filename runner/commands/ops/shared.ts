/**
 * Flag tables and the set-up every query command repeats: read the config, resolve where the gateway
 * is, print JSON.
 *
 * @module
 */
import { type FlagTable, type FlagValues, intFlag, stringFlag } from "../../cli/args.ts";
import type { CliContext } from "../../command.ts";
import { type CliConfigReport, readCliConfig } from "./config.ts";
import { type ResolvedGateway, resolveGateway } from "./target.ts";

/** `--url --token --password --timeout --json`, shared by every command that talks to the gateway. */
export const CONNECTION_FLAGS: FlagTable = {
  url: {
    type: "string",
    valueName: "<url>",
    description: "Gateway WebSocket URL (needs --token or --password)",
  },
  token: { type: "string", valueName: "<token>", description: "Gateway token" },
  password: { type: "string", valueName: "<password>", description: "Gateway password" },
  timeout: { type: "string", valueName: "<ms>", description: "Timeout budget in ms (default 10000)" },
  json: { type: "boolean", description: "Print one JSON document" },
};

/** `--port`, targeting a local loopback gateway. */
export const PORT_FLAG: FlagTable = {
  port: {
    type: "string",
    valueName: "<port>",
    description: "Target the local loopback gateway on this port",
  },
};

/** The config and gateway resolution a query command starts from. */
export interface QuerySetup {
  config: CliConfigReport;
  gateway: ResolvedGateway;
  timeoutMs: number;
  json: boolean;
}

/** Reads the config and resolves targets from the shared flags. */
export async function querySetup(
  flags: FlagValues,
  ctx: CliContext,
  options: { probeAll?: boolean; defaultTimeoutMs?: number } = {},
): Promise<QuerySetup> {
  const config = await readCliConfig(ctx.paths.configPath, ctx.env);
  const gateway = resolveGateway(
    {
      url: stringFlag(flags, "url"),
      token: stringFlag(flags, "token"),
      password: stringFlag(flags, "password"),
      port: intFlag(flags, "port", 1, 65535),
    },
    ctx.env,
    config.config,
    ctx.dev,
    options,
  );
  return {
    config,
    gateway,
    timeoutMs: intFlag(flags, "timeout", 1, 600_000) ?? options.defaultTimeoutMs ?? 10_000,
    json: flags.json === true,
  };
}

/** Prints `value` as the command's single JSON document. */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.output.out(JSON.stringify(value, null, 2));
}
