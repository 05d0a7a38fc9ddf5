/**
 * Channels: where outside services reach the agents (Telegram, signed HTTP webhooks).
 *
 * ```ts
 * const channels = channelsModule({ agents, metrics: metrics.recorder });
 * createGateway({ config, modules: [agents, metrics, channels] });
 * ```
 *
 * @module
 */
export {
  BUILTIN_CHANNELS,
  type ChannelsModule,
  channelsModule,
  type ChannelsModuleOptions,
} from "./channels-module.ts";
export { CHANNELS_HTTP_PREFIX } from "./route.ts";
export type {
  Channel,
  ChannelAccountStatus,
  ChannelFactory,
  ChannelHost,
  ChannelProbe,
  InboundMessage,
  OutboundMessage,
} from "./types.ts";
export { type AgentTurns, agentTurns, type StartedTurn, type TurnRequest, type TurnResult } from "./turns.ts";
export { TELEGRAM_API_ROOT, telegramChannel } from "./telegram.ts";
export { webhookChannel } from "./webhook.ts";
export { type AccessDecision, dmAccess, groupAccess } from "./access.ts";
export {
  ChannelPairing,
  PAIRING_CODE_ALPHABET,
  PAIRING_CODE_LENGTH,
  PAIRING_MAX_PENDING,
  PAIRING_TTL_MS,
  type PairingOutcome,
  type PairingRequest,
  pairingRequestId,
} from "./pairing.ts";
export { sign as signWebhookBody, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./hmac.ts";
export type {
  ChannelCommonConfig,
  ChannelsSection,
  DmPolicy,
  GroupConfig,
  GroupPolicy,
  TelegramChannelConfig,
  WebhookChannelConfig,
} from "../config/sections/channels.ts";
