/**
 * The channel plugin contract: a channel receives messages from an outside service, hands them to the
 * gateway, sends replies back, and reports its status and a live probe.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { FetchLike } from "../providers/types.ts";
import type { JsonDocs } from "../state/json-docs.ts";

/** A message that arrived on a channel. */
export interface InboundMessage {
  /** Who sent it (a Telegram user id, a webhook `from`). */
  senderId: string;
  /** Where a reply goes (a Telegram chat id, a webhook conversation id). */
  chatId: string;
  text: string;
  messageId?: string;
  senderName?: string;
  /** `group` for group chats (group policy applies); direct messages otherwise. */
  chatType?: "direct" | "group";
  /** Whether a group message addresses the bot (a mention or a reply to it). */
  mentioned?: boolean;
}

/** A message to send on a channel. */
export interface OutboundMessage {
  to: string;
  text: string;
  replyToId?: string;
}

/** One account's state, in the reference's `channels.status` `channelAccounts` shape. */
export interface ChannelAccountStatus {
  accountId: string;
  enabled: boolean;
  configured: boolean;
  running: boolean;
  connected?: boolean;
  mode?: string;
  baseUrl?: string;
  webhookPath?: string | null;
  lastError: string | null;
  lastStartAt: number | null;
  lastStopAt: number | null;
  lastInboundAt: number | null;
  lastOutboundAt: number | null;
  lastProbeAt?: number | null;
  probe?: ChannelProbe;
}

/** The outcome of a live check against the outside service. */
export interface ChannelProbe {
  ok: boolean;
  elapsedMs: number;
  error?: string;
  /** What the service said about us (e.g. the bot's username). */
  identity?: Record<string, unknown>;
}

/** What a channel gets from the gateway when it starts. */
export interface ChannelHost {
  readonly logger: Logger;
  readonly fetch: FetchLike;
  now(): number;
  /** Durable documents (e.g. Telegram's update offset), under the state dir when the runner runs it. */
  readonly state: JsonDocs;
  /** `gateway.limits.bodyTimeoutMs` now: how long an inbound webhook body may take to arrive. */
  bodyTimeoutMs(): number;
  /**
   * The value this channel keeps under `name` for the gateway's whole life (made by `make` the first
   * time): a channel is rebuilt on every edit of its config, and what guards against replays must not
   * be forgotten then.
   */
  lasting<T>(name: string, make: () => T): T;
  /** Hands a message to the gateway; the reply comes back through `send`. Never throws. */
  receive(message: InboundMessage): void;
}

/** A channel plugin (one account). */
export interface Channel {
  readonly id: string;
  readonly label: string;
  readonly detailLabel: string;
  /** What a sender id is called in pairing requests (OpenClaw's `idLabel`, e.g. `telegramUserId`). */
  readonly senderIdLabel?: string;
  /** Starts receiving (polling, webhook registration). Failures are reported in `status().lastError`. */
  start(host: ChannelHost): Promise<void>;
  stop(): Promise<void>;
  send(message: OutboundMessage): Promise<{ messageId?: string }>;
  status(): ChannelAccountStatus;
  probe(signal: AbortSignal): Promise<ChannelProbe>;
  /**
   * Checks inbound HTTP at `/channels/<id>/<subPath>` from its head alone (path, method, the sender's
   * secret token or signature headers), before any body is read: the refusal to answer, or `undefined`
   * to go on to {@link handleHttp}. Without it every request reaches `handleHttp`.
   */
  verifyHttp?(request: Request, subPath: string): Response | undefined;
  /**
   * Inbound HTTP at `/channels/<id>/<subPath>`, for channels that take webhooks. The gateway calls it only
   * for requests `verifyHttp` admitted.
   */
  handleHttp?(request: Request, subPath: string): Promise<Response>;
}

/** Builds a channel from its config entry (`channels.<id>`), or explains why it cannot. */
export type ChannelFactory = (
  config: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
) => Channel;
