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
  /** The message text as the sender wrote it. */
  text: string;
  /** The service's id for the message, used to answer as a reply to it. */
  messageId?: string;
  /**
   * The service's id for this delivery, the same on every replica and every redelivery (Telegram: the
   * bot id and `update_id`): a message handed over again with it, here or on another replica, while or
   * after the first was taken, starts nothing new.
   */
  deliveryId?: string;
  /** Display name of the sender, when the service gives one. */
  senderName?: string;
  /** `group` for group chats (group policy applies); direct messages otherwise. */
  chatType?: "direct" | "group";
  /** Whether a group message addresses the bot (a mention or a reply to it). */
  mentioned?: boolean;
}

/**
 * What became of a message handed to the gateway. `taken`: its turn's input is durable (in the transcript,
 * or in the turn queue another replica resumes it from). `refused`: the sender policy or the turn's start
 * turned it down for good, or there is nothing to run it; asking again would change nothing. `retry`: its
 * input could not be saved for a reason that may pass (the shared store unreachable): the channel must not
 * acknowledge it, so that the service delivers it again.
 */
export type ReceiveOutcome = "taken" | "refused" | "retry";

/** A message to send on a channel. */
export interface OutboundMessage {
  /** Where the message goes: the `chatId` of the inbound message it answers. */
  to: string;
  /** The text to send. */
  text: string;
  /** `messageId` of the message this answers, to thread the reply where the service supports it. */
  replyToId?: string;
}

/** One account's state, in the reference's `channels.status` `channelAccounts` shape. */
export interface ChannelAccountStatus {
  /** Account id within the channel; `default` for a single-account channel. */
  accountId: string;
  /** Whether the config turns this account on. */
  enabled: boolean;
  /** Whether its config is complete (for example, a bot token is present). */
  configured: boolean;
  /** Whether the channel is started and has not stopped. */
  running: boolean;
  /** Whether it currently reaches the outside service (a poll or webhook set-up succeeded). */
  connected?: boolean;
  /** How it receives messages, e.g. `polling` or `webhook`. */
  mode?: string;
  /** The outside service's API root, where it has one. */
  baseUrl?: string;
  /** Gateway path that takes its inbound webhooks, or `null` when it does not use one. */
  webhookPath?: string | null;
  /** The last failure, or `null` after a success. */
  lastError: string | null;
  /** When it last started, epoch ms, or `null`. */
  lastStartAt: number | null;
  /** When it last stopped, epoch ms, or `null`. */
  lastStopAt: number | null;
  /** When it last received a message, epoch ms, or `null`. */
  lastInboundAt: number | null;
  /** When it last sent a message, epoch ms, or `null`. */
  lastOutboundAt: number | null;
  /** When it was last probed, epoch ms, or `null`. */
  lastProbeAt?: number | null;
  /** The outcome of the last probe, when one ran. */
  probe?: ChannelProbe;
}

/** The outcome of a live check against the outside service. */
export interface ChannelProbe {
  /** Whether the service answered as expected. */
  ok: boolean;
  /** How long the probe took, in milliseconds. */
  elapsedMs: number;
  /** What failed, when `ok` is false. */
  error?: string;
  /** What the service said about us (e.g. the bot's username). */
  identity?: Record<string, unknown>;
}

/** What a channel gets from the gateway when it starts. */
export interface ChannelHost {
  /** Logger for this channel's records. */
  readonly logger: Logger;
  /** The `fetch` to reach the outside service with; injectable so tests control the network. */
  readonly fetch: FetchLike;
  /** The gateway's clock, epoch milliseconds. */
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
  /**
   * Hands a message to the gateway; the reply comes back through `send` (on whichever replica runs its
   * turn). Resolves with what became of it (see {@link ReceiveOutcome}); a channel acknowledges a message
   * to its service (an update offset, a 2xx) only when that is not `retry`. Never rejects.
   */
  receive(message: InboundMessage): Promise<ReceiveOutcome>;
  /**
   * Runs `run` on one replica of the cluster at a time (`GatewayContext.runSingleton`), e.g. a poller that
   * two replicas must not both run, until `stop` aborts (when the channel stops).
   */
  runSingleton(name: string, run: (signal: AbortSignal) => void | Promise<void>, stop: AbortSignal): void;
}

/** A channel plugin (one account). */
export interface Channel {
  /** Channel id, the key of its config entry (`channels.<id>`) and of its `/channels/<id>/` HTTP path. */
  readonly id: string;
  /** Short name shown to people, e.g. `Telegram`. */
  readonly label: string;
  /** Longer name for detail views, e.g. `Telegram Bot`. */
  readonly detailLabel: string;
  /** What a sender id is called in pairing requests (OpenClaw's `idLabel`, e.g. `telegramUserId`). */
  readonly senderIdLabel?: string;
  /** Starts receiving (polling, webhook registration). Failures are reported in `status().lastError`. */
  start(host: ChannelHost): Promise<void>;
  /**
   * Stops receiving; resolves when it has. `send` keeps working after it: the replies of turns still
   * running when the gateway stopped go out through the stopped channel.
   */
  stop(): Promise<void>;
  /** Sends a message; resolves with the service's id for it, and throws when the service refuses it. */
  send(message: OutboundMessage): Promise<{ messageId?: string }>;
  /** The account's state right now, for `channels.status`. */
  status(): ChannelAccountStatus;
  /** Checks live that the outside service answers with these credentials, within `signal`. */
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
