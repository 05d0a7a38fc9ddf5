/**
 * The `channels` section of `openclaw.json`: one entry per channel id (`telegram`, `webhook`). Keys follow
 * OpenClaw where it has them (`botToken`, `apiRoot`, `dmPolicy`, `allowFrom`, `webhookUrl`,
 * `webhookSecret`); unknown channels and keys are kept.
 *
 * @module
 */
import { z } from "zod";

/** Who may talk to the agent in direct messages. */
export type DmPolicy = "open" | "allowlist" | "pairing" | "disabled";

/** What every channel entry may set. */
export interface ChannelCommonConfig {
  enabled?: boolean;
  /** The agent that answers this channel; the default agent otherwise. */
  agentId?: string;
  dmPolicy?: DmPolicy;
  /** Sender ids allowed to reach the agent (`"*"` = anyone). */
  allowFrom?: string[];
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
  webhookSecret?: unknown;
  /** Long-poll `timeout` in seconds (Bot API `getUpdates`). */
  pollTimeoutSeconds?: number;
  textChunkLimit?: number;
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
  telegram?: TelegramChannelConfig;
  webhook?: WebhookChannelConfig;
  [channel: string]: unknown;
}

const common = {
  enabled: z.boolean().optional(),
  agentId: z.string().min(1).optional(),
  dmPolicy: z.enum(["open", "allowlist", "pairing", "disabled"]).optional(),
  allowFrom: z.array(z.union([z.string(), z.number()]).transform(String)).optional(),
};

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
  }).optional(),
  webhook: z.looseObject({
    ...common,
    outboundUrl: z.url().optional(),
    secret: z.unknown().optional(),
  }).optional(),
});
