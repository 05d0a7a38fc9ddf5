/**
 * One-request commands: `gateway call <method>`, `health` / `gateway health`. Each connects, makes one
 * call and prints the answer; an unreachable gateway or refused credentials exit non-zero.
 *
 * @module
 */
import { homedir } from "node:os";
import type { GatewayConnection } from "../../../lib/client/connection.ts";
import { GatewayClientError } from "../../../lib/client/errors.ts";
import { defineCommand } from "../../cli/define-command.ts";
import { CliError, EXIT } from "../../cli/errors.ts";
import { resolveHome } from "../../cli/profile-paths.ts";
import type { FlagValues } from "../../cli/args.ts";
import type { CliContext, RunnerCommand } from "../../command.ts";
import { openConnection, OWNER_SCOPES } from "./connect.ts";
import type { OpsHost } from "./host.ts";
import { otherGatewayHints, otherProfileGateways } from "./other-gateways.ts";
import type { GatewayTarget } from "./target.ts";
import { CONNECTION_FLAGS, PORT_FLAG, printJson, querySetup } from "./shared.ts";

/**
 * Connects to `target`, runs `body`, closes; client failures become one-line CLI errors. With `ctx`, an
 * unreachable target also names gateways running under other profiles (the dev one, usually).
 */
export async function withConnection<T>(
  host: OpsHost,
  target: GatewayTarget,
  timeoutMs: number,
  scopes: string[] | undefined,
  body: (connection: GatewayConnection) => Promise<T>,
  ctx?: CliContext,
): Promise<T> {
  let connection: GatewayConnection | undefined;
  try {
    connection = await openConnection(host, target, timeoutMs, scopes);
    return await body(connection);
  } catch (err) {
    if (!(err instanceof GatewayClientError)) throw err;
    if (err.kind !== "unreachable" && err.kind !== "timeout") throw new CliError(err.message);
    const elsewhere = ctx
      ? otherGatewayHints(
        await otherProfileGateways(resolveHome(ctx.env, homedir()), ctx.paths.stateDir),
        "gateway status",
      )
      : [];
    const next = elsewhere.length ? elsewhere.join(" ") : "Is it running? Try `openclaw gateway status`.";
    throw new CliError(`${err.message}. ${next}`);
  } finally {
    connection?.close();
  }
}

/**
 * Calls `method` once on the gateway the flags name, with `scopes` (the owner's by default); with
 * `expectFinal`, waits past an accepted answer for the final one.
 */
export async function callGateway<T>(
  host: OpsHost,
  ctx: CliContext,
  flags: FlagValues,
  method: string,
  params: unknown,
  scopes: string[] = OWNER_SCOPES,
  expectFinal = false,
): Promise<T> {
  const setup = await querySetup(flags, ctx);
  return await withConnection(
    host,
    setup.gateway.targets[0],
    setup.timeoutMs,
    scopes,
    (c) => c.request<T>(method, params, { timeoutMs: setup.timeoutMs, expectFinal }),
    ctx,
  );
}

function parseParams(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`--params must be JSON: ${(err as Error).message}`, EXIT.usage);
  }
}

function callCommand(host: OpsHost): RunnerCommand {
  return defineCommand({
    path: ["gateway", "call"],
    summary: "Call one gateway method and print its result",
    usage: "<method>",
    flags: {
      ...CONNECTION_FLAGS,
      ...PORT_FLAG,
      params: { type: "string", valueName: "<json>", description: "JSON params (default {})" },
      "expect-final": { type: "boolean", description: "Wait for the final response of a two-stage method" },
    },
    async run({ flags, positionals }, ctx) {
      const method = positionals[0];
      if (!method) {
        throw new CliError("gateway call needs a method, e.g. `openclaw gateway call health`", EXIT.usage);
      }
      const params = parseParams(typeof flags.params === "string" ? flags.params : undefined);
      const result = await callGateway(
        host,
        ctx,
        flags,
        method,
        params,
        OWNER_SCOPES,
        flags["expect-final"] === true,
      );
      printJson(ctx, result);
      return EXIT.ok;
    },
  });
}

interface ChannelSummary {
  id: string;
  label: string;
  state: string;
}

/** Channel rows from a health snapshot (`channels` map, ordered by `channelOrder`). */
export function healthChannels(health: Record<string, unknown>): ChannelSummary[] {
  const channels = (health.channels ?? {}) as Record<string, Record<string, unknown>>;
  const labels = (health.channelLabels ?? {}) as Record<string, string>;
  const order = Array.isArray(health.channelOrder) ? health.channelOrder.map(String) : Object.keys(channels);
  return order.map((id) => {
    const entry = channels[id] ?? {};
    const state = typeof entry.status === "string"
      ? entry.status
      : entry.ok === false
      ? "not ok"
      : entry.running === true
      ? "running"
      : entry.configured === false
      ? "not configured"
      : "ok";
    return { id, label: labels[id] ?? id, state };
  });
}

function healthCommand(host: OpsHost, path: string[]): RunnerCommand {
  return defineCommand({
    path,
    summary: "Fetch the running gateway's health snapshot",
    flags: {
      ...CONNECTION_FLAGS,
      ...(path.length > 1 ? PORT_FLAG : {}),
      verbose: { type: "boolean", description: "Ask for a live probe instead of the cached snapshot" },
    },
    async run({ flags }, ctx) {
      const setup = await querySetup(flags, ctx);
      const target = setup.gateway.targets[0];
      const started = host.now();
      const health = await withConnection(
        host,
        target,
        setup.timeoutMs,
        undefined,
        (c) =>
          c.request<Record<string, unknown>>("health", flags.verbose === true ? { probe: true } : {}, {
            timeoutMs: setup.timeoutMs,
          }),
        ctx,
      );
      const elapsed = Math.round(host.now() - started);
      if (setup.json) {
        printJson(ctx, health);
        return health.ok === false ? EXIT.failure : EXIT.ok;
      }
      const channels = healthChannels(health);
      const reload = (health.configReload as { hotReloadStatus?: string } | undefined)?.hotReloadStatus;
      const lines = [
        `Gateway: ${health.ok === false ? "not ok" : "ok"} (${target.url}, ${elapsed}ms)`,
        `Channels: ${
          channels.length ? channels.map((c) => `${c.label}: ${c.state}`).join(", ") : "none configured"
        }`,
      ];
      if (reload) lines.push(`Config reload: ${reload}`);
      if (typeof health.durationMs === "number") lines.push(`Snapshot built in ${health.durationMs}ms`);
      ctx.output.out(lines.join("\n"));
      return health.ok === false ? EXIT.failure : EXIT.ok;
    },
  });
}

/** `gateway call`, `health` and `gateway health`. */
export function rpcCommands(host: OpsHost): RunnerCommand[] {
  return [callCommand(host), healthCommand(host, ["health"]), healthCommand(host, ["gateway", "health"])];
}
