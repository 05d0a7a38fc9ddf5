/**
 * `openclaw pairing list [channel]` and `openclaw pairing approve [channel] <code>`: the DM pairing
 * requests of the profile's state dir (or of its cluster's Redis), read and approved in place as OpenClaw's
 * CLI does (no gateway needed; a running gateway admits the sender from their next message on).
 *
 * @module
 */
import { homedir } from "node:os";
import { dmSettings } from "../../lib/channels/access.ts";
import { BUILTIN_CHANNELS } from "../../lib/channels/channels-module.ts";
import { ChannelPairing } from "../../lib/channels/pairing.ts";
import { DEFAULT_ACCOUNT_ID } from "../../lib/channels/status.ts";
import type { JsonDocs } from "../../lib/state/json-docs.ts";
import type { CliContext, RunnerCommand } from "../command.ts";
import { resolveHome } from "../cli/profile-paths.ts";
import { type FlagTable, type FlagValues, stringFlag } from "../cli/args.ts";
import { defineCommand } from "../cli/define-command.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import { readAuthoredConfig } from "../config/config-writer.ts";
import { withChannelState } from "../gateway/cluster-stores.ts";

const FLAGS: FlagTable = {
  channel: { type: "string", valueName: "<channel>", description: "Channel id (e.g. telegram)" },
  account: { type: "string", valueName: "<accountId>", description: "Account id (only `default` here)" },
  json: { type: "boolean", description: "Print JSON" },
};

/** Runs `use` over the pairing store the profile's gateway uses (its Redis in a cluster, else the state dir). */
async function channelState<T>(ctx: CliContext, use: (docs: JsonDocs) => Promise<T>): Promise<T> {
  const config = (await readAuthoredConfig(ctx.paths.configPath)).value;
  return await withChannelState(config, {
    env: ctx.env,
    home: resolveHome(ctx.env, homedir()),
    stateDir: ctx.paths.stateDir,
  }, use);
}

/** Channel ids that can pair (every built-in one answers DMs). */
const PAIRING_CHANNELS = Object.keys(BUILTIN_CHANNELS);

/**
 * The channel named by `--channel` or the positional, else the only configured channel whose DMs use
 * pairing (OpenClaw's rule), else a usage error listing the choices.
 */
async function resolveChannel(
  explicit: string | undefined,
  ctx: CliContext,
  example: string,
): Promise<string> {
  if (explicit !== undefined) {
    const id = explicit.trim().toLowerCase();
    if (!PAIRING_CHANNELS.includes(id)) {
      throw new CliError(
        `Channel "${explicit}" does not support pairing. Supported pairing channels: ${
          PAIRING_CHANNELS.join(", ")
        }.`,
        EXIT.usage,
      );
    }
    return id;
  }
  const config = (await readAuthoredConfig(ctx.paths.configPath)).value;
  const channels = (config.channels ?? {}) as Record<string, unknown>;
  const pairing = PAIRING_CHANNELS.filter((id) => {
    const entry = channels[id] as Record<string, unknown> | undefined;
    return entry && typeof entry === "object" && entry.enabled !== false &&
      dmSettings(id, entry).dmPolicy === "pairing";
  });
  if (pairing.length === 1) return pairing[0];
  throw new CliError(
    pairing.length
      ? `Channel required (expected one of: ${pairing.join(", ")}).`
      : `No configured channel uses DM pairing; pass the channel, e.g. \`${example}\`.`,
    EXIT.usage,
  );
}

function checkAccount(flags: FlagValues): void {
  const account = stringFlag(flags, "account");
  if (account !== undefined && account.trim().toLowerCase() !== DEFAULT_ACCOUNT_ID) {
    throw new CliError(
      `Unknown account "${account}": channels here have one account, "default".`,
      EXIT.usage,
    );
  }
}

/** The channel given both ways must agree. */
function channelArg(flag: string | undefined, positional: string | undefined): string | undefined {
  if (flag && positional && flag.toLowerCase() !== positional.toLowerCase()) {
    throw new CliError(
      `Conflicting pairing channels: "${flag}" and "${positional}". Pass the channel once.`,
      EXIT.usage,
    );
  }
  return flag ?? positional;
}

const listCommand = defineCommand({
  path: ["pairing", "list"],
  summary: "List pending DM pairing requests of a channel",
  usage: "[channel]",
  flags: FLAGS,
  async run({ flags, positionals }, ctx) {
    if (positionals.length > 1) {
      throw new CliError("Too many arguments. Use: openclaw pairing list [channel]", EXIT.usage);
    }
    checkAccount(flags);
    const channel = await resolveChannel(
      channelArg(stringFlag(flags, "channel"), positionals[0]),
      ctx,
      "openclaw pairing list telegram",
    );
    const requests = await channelState(ctx, (docs) => new ChannelPairing(docs).pending(channel));
    if (flags.json) {
      ctx.output.out(JSON.stringify({ channel, requests }, null, 2));
      return EXIT.ok;
    }
    if (!requests.length) {
      ctx.output.out(`No pending ${channel} pairing requests.`);
      return EXIT.ok;
    }
    const rows = [
      ["Code", "Sender", "Name", "Requested"],
      ...requests.map((r) => [
        r.code,
        r.id,
        r.meta?.name ?? "",
        r.createdAt,
      ]),
    ];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    ctx.output.out(`Pairing requests (${requests.length})`);
    for (const row of rows) ctx.output.out(row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
    return EXIT.ok;
  },
});

const approveCommand = defineCommand({
  path: ["pairing", "approve"],
  summary: "Approve a pairing code and let that sender talk to the agent",
  usage: "[channel] <code>",
  flags: FLAGS,
  async run({ flags, positionals }, ctx) {
    const explicit = stringFlag(flags, "channel");
    if (positionals.length > (explicit ? 1 : 2) || positionals.length === 0) {
      throw new CliError(
        "Usage: openclaw pairing approve <channel> <code> (or: openclaw pairing approve --channel <channel> <code>)",
        EXIT.usage,
      );
    }
    checkAccount(flags);
    const code = positionals.at(-1)!;
    const channel = await resolveChannel(
      explicit ?? (positionals.length === 2 ? positionals[0] : undefined),
      ctx,
      "openclaw pairing approve telegram <code>",
    );
    const approved = await channelState(ctx, (docs) => new ChannelPairing(docs).approveCode(channel, code));
    if (!approved) {
      throw new CliError(
        `No pending pairing request found for code "${code}". Run openclaw pairing list ${channel} to list pending requests.`,
      );
    }
    if (flags.json) ctx.output.out(JSON.stringify({ channel, approved: approved.id }, null, 2));
    else ctx.output.out(`Approved ${channel} sender ${approved.id}.`);
    return EXIT.ok;
  },
});

/** `pairing list` and `pairing approve`. */
export const pairingCommands: RunnerCommand[] = [listCommand, approveCommand];
