/**
 * Channels: where outside services reach the agents (Telegram, signed HTTP webhooks).
 *
 * @example A signed webhook message answered by the default agent
 * ```ts
 * import {
 *   agentsModule,
 *   channelsModule,
 *   createGateway,
 *   memoryTransport,
 *   SIGNATURE_HEADER,
 *   signWebhookBody,
 *   TIMESTAMP_HEADER,
 * } from "@openclaw-ts/gateway";
 *
 * // Replies leave through `fetch`; this one keeps them instead of reaching a network.
 * let delivered!: (body: { to: string; text: string }) => void;
 * const reply = new Promise<{ to: string; text: string }>((resolve) => delivered = resolve);
 * const fetch = async (_url: string | URL | Request, init?: RequestInit) => {
 *   delivered(JSON.parse(String(init?.body)));
 *   return new Response(null, { status: 204 });
 * };
 *
 * const transport = memoryTransport();
 * const agents = agentsModule();
 * const secret = "webhook-s3cret";
 * const gateway = createGateway({
 *   transport,
 *   config: {
 *     gateway: { auth: { token: "s3cret" } },
 *     channels: { webhook: { secret, outboundUrl: "https://replies.invalid/in" } },
 *   },
 *   modules: [agents, channelsModule({ agents, fetch })],
 * });
 * await gateway.start();
 *
 * const body = JSON.stringify({ from: "user-1", text: "hello" });
 * const ts = Date.now();
 * const accepted = await transport.fetch("/channels/webhook/inbound", {
 *   method: "POST",
 *   headers: {
 *     "content-type": "application/json",
 *     [SIGNATURE_HEADER]: await signWebhookBody(secret, ts, body),
 *     [TIMESTAMP_HEADER]: String(ts),
 *   },
 *   body,
 * });
 * if (accepted.status !== 202) throw new Error(`inbound answered ${accepted.status}`);
 * await accepted.body?.cancel();
 * const answer = await reply;
 * if (answer.to !== "user-1" || !answer.text) throw new Error(JSON.stringify(answer));
 * await gateway.stop();
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
  ReceiveOutcome,
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
