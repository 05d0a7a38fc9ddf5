/**
 * The `channels` section of `openclaw.json`: one entry per channel id (`telegram`, `webhook`). Keys follow
 * OpenClaw where it has them (`botToken`, `apiRoot`, `dmPolicy`, `allowFrom`, `groupPolicy`,
 * `groupAllowFrom`, `groups`, `webhookUrl`, `webhookSecret`); unknown channels and keys are kept.
 * What the access keys mean at runtime is in `lib/channels/access.ts`.
 *
 * @module
 */
import * as z from "zod";

/** Who may talk to the agent in direct messages. */
export type DmPolicy = "open" | "allowlist" | "pairing" | "disabled";

/** Who may talk to the agent in group chats. */
export type GroupPolicy = "open" | "allowlist" | "disabled";

/** One allowed group under `groups.<chatId>` (or `groups."*"`). */
export interface GroupConfig {
  /** `false` closes this group again without removing its entry. */
  enabled?: boolean;
  /** Overrides the channel's `groupPolicy` for this group. */
  groupPolicy?: GroupPolicy;
  /** Senders allowed in this group; replaces `groupAllowFrom` here. */
  allowFrom?: string[];
  /** Answer only messages that mention the bot or reply to it (default true). */
  requireMention?: boolean;
  /** Keys OpenClaw knows that this gateway does not use. */
  [key: string]: unknown;
}

/** What every channel entry may set. */
export interface ChannelCommonConfig {
  /** Whether the channel runs; default true when its entry exists. */
  enabled?: boolean;
  /** The agent that answers this channel; the default agent otherwise. */
  agentId?: string;
  /** `pairing` unless set (the webhook channel: `open` to every sender its HMAC secret admits). */
  dmPolicy?: DmPolicy;
  /** Sender ids allowed to reach the agent (`"*"` = anyone); enforced under every `dmPolicy`. */
  allowFrom?: string[];
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** `channels.telegram`. */
export interface TelegramChannelConfig extends ChannelCommonConfig {
  /** A string or a SecretRef; falls back to `TELEGRAM_BOT_TOKEN`. */
  botToken?: unknown;
  /** Bot API root (no `/bot<TOKEN>`); `https://api.telegram.org` by default. */
  apiRoot?: string;
  /** Setting it switches from long polling to webhook mode. */
  webhookUrl?: string;
  /** Secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token` on webhook calls (string or SecretRef). */
  webhookSecret?: unknown;
  /** Long-poll `timeout` in seconds (Bot API `getUpdates`). */
  pollTimeoutSeconds?: number;
  /** Longest reply message, in characters; longer replies are split; default 4000. */
  textChunkLimit?: number;
  /** `allowlist` unless set: groups stay closed until listed under `groups`. */
  groupPolicy?: GroupPolicy;
  /** Senders allowed in allowed groups; falls back to `allowFrom` (never to pairing approvals). */
  groupAllowFrom?: string[];
  /** Allowed group chat ids (`"*"` = any group) and their overrides. */
  groups?: Record<string, GroupConfig>;
}

/** `channels.webhook`: a generic HTTP channel signed with HMAC-SHA256. */
export interface WebhookChannelConfig extends ChannelCommonConfig {
  /** Where replies are POSTed. */
  outboundUrl?: string;
  /** Shared HMAC secret (string or SecretRef) for both directions. */
  secret?: unknown;
}

/** The whole `channels` section. */
export interface ChannelsSection {
  /** The Telegram bot channel. */
  telegram?: TelegramChannelConfig;
  /** The signed HTTP webhook channel. */
  webhook?: WebhookChannelConfig;
  /** Other channels' entries, keyed by channel id; kept so a shared config loads. */
  [channel: string]: unknown;
}

const senderList = z.array(z.union([z.string(), z.number()]).transform(String));
const groupPolicy = z.enum(["open", "allowlist", "disabled"]);

const common = {
  enabled: z.boolean().optional(),
  agentId: z.string().min(1).optional(),
  dmPolicy: z.enum(["open", "allowlist", "pairing", "disabled"]).optional(),
  allowFrom: senderList.optional(),
};

/**
 * OpenClaw's validation: an allowlist with no one on it blocks every DM, and `open` with no `allowFrom`
 * would read as "public" when only `["*"]` says so; both are mistakes worth refusing at load.
 */
function checkDmAccess(entry: { dmPolicy?: string; allowFrom?: string[] }, ctx: z.RefinementCtx): void {
  if (entry.allowFrom?.length || (entry.dmPolicy !== "allowlist" && entry.dmPolicy !== "open")) return;
  ctx.addIssue({
    code: "custom",
    path: ["allowFrom"],
    message: entry.dmPolicy === "allowlist"
      ? 'dmPolicy "allowlist" needs at least one sender id in allowFrom'
      : 'dmPolicy "open" needs allowFrom: ["*"] to answer anyone (or list the sender ids to answer)',
  });
}

/** Validates the `channels` section. */
export const ChannelsSectionSchema: z.ZodType<ChannelsSection> = z.looseObject({
  telegram: z.looseObject({
    ...common,
    botToken: z.unknown().optional(),
    apiRoot: z.url().refine((u) => !/\/bot[^/]+\/?$/.test(u), {
      message: "apiRoot is the Bot API root only; drop the trailing /bot<TOKEN>",
    }).optional(),
    webhookUrl: z.url().optional(),
    webhookSecret: z.unknown().optional(),
    pollTimeoutSeconds: z.number().int().min(0).max(50).optional(),
    textChunkLimit: z.number().int().min(1).max(4096).optional(),
    groupPolicy: groupPolicy.optional(),
    groupAllowFrom: senderList.optional(),
    groups: z.record(
      z.string().regex(/^(\*|-?\d+)$/, 'group keys are numeric chat ids (e.g. "-1001234567890") or "*"'),
      z.looseObject({
        enabled: z.boolean().optional(),
        groupPolicy: groupPolicy.optional(),
        allowFrom: senderList.optional(),
        requireMention: z.boolean().optional(),
      }),
    ).optional(),
  }).superRefine(checkDmAccess).optional(),
  webhook: z.looseObject({
    ...common,
    outboundUrl: z.url().optional(),
    secret: z.unknown().optional(),
  }).superRefine(checkDmAccess).optional(),
});
