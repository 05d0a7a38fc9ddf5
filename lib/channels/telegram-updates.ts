/**
 * Telegram updates taken once. The last 2048 `update_id`s taken are remembered, and in polling mode the
 * highest id up to which every update was taken (the watermark) is kept in the channel state
 * (`telegram/update-offset-default.json`, tied to the bot's id; the state dir, or Redis in a cluster) so a
 * restart neither refetches nor replays what was already answered. An update is remembered as handled only
 * once it is not to be retried. This file also says whether a message came from a group and addressed the
 * bot; who is answered is decided by the channels module (`access.ts`).
 *
 * @module
 */
import { RecentIds } from "./recent-ids.ts";
import { type ChannelStatusTracker, DEFAULT_ACCOUNT_ID } from "./status.ts";
import type { BotIdentity, TelegramMessage, TelegramUpdate } from "./telegram-api.ts";
import type { ChannelHost, ReceiveOutcome } from "./types.ts";

/** Update ids remembered for dropping redeliveries (a few minutes of a busy bot, ~100 KiB at most). */
const RECENT_UPDATES = 2048;
const OFFSET_DOC = `telegram/update-offset-${DEFAULT_ACCOUNT_ID}.json`;

/** The updates of one started Telegram channel: what was taken, and handing the new ones to the gateway. */
export class TelegramUpdates {
  /** What `getMe` said, once known: deliveries before then carry no delivery id and address no bot. */
  bot: BotIdentity | undefined;
  /** The highest update id handled in polling mode (restored at start); webhook updates may come out of order. */
  #watermark = -1;
  /** Kept across the channel's rebuilds (`ChannelHost.lasting`). */
  readonly #recent: RecentIds;
  /** Updates being handed over: a copy that arrives meanwhile (in one batch, a webhook retry) waits for it. */
  readonly #inflight = new Map<string, Promise<ReceiveOutcome>>();

  constructor(private readonly host: ChannelHost, private readonly tracker: ChannelStatusTracker) {
    this.#recent = host.lasting("recent-updates", () => new RecentIds(RECENT_UPDATES));
  }

  /** The highest update id up to which every update was taken in polling mode. */
  get watermark(): number {
    return this.#watermark;
  }

  /**
   * Hands an update's message to the gateway; resolves with what became of it (see `ChannelHost.receive`).
   * A copy of an update already taken is not handed over again.
   */
  async deliver(update: TelegramUpdate): Promise<ReceiveOutcome> {
    if (!Number.isSafeInteger(update?.update_id)) return "refused";
    const id = String(update.update_id);
    if (update.update_id <= this.#watermark || this.#recent.has(id)) {
      this.host.logger.debug("telegram update already handled; skipped", { updateId: update.update_id });
      return "taken";
    }
    const pending = this.#inflight.get(id);
    if (pending) return pending;
    const outcome = this.#receive(update);
    this.#inflight.set(id, outcome);
    try {
      if (await outcome !== "retry") this.#recent.add(id);
      return outcome;
    } finally {
      this.#inflight.delete(id);
    }
  }

  /** Restores the watermark this bot's poller saved; never backwards (this replica may be ahead of it). */
  async restore(): Promise<void> {
    const saved = this.#saved(await this.host.state.read(OFFSET_DOC).catch(() => undefined));
    this.#watermark = Math.max(this.#watermark, saved);
  }

  /**
   * Moves the polling watermark up to `updateId` and saves it while this replica still polls (`signal`),
   * never below what is saved: a poller that lost its lease mid-batch must not take its successor's
   * progress back.
   */
  async advance(updateId: number, signal: AbortSignal): Promise<void> {
    if (updateId <= this.#watermark) return;
    this.#watermark = updateId;
    if (signal.aborted) return;
    const saving = { version: 1, lastUpdateId: updateId, botId: this.bot?.id };
    await this.host.state.update(
      OFFSET_DOC,
      (current) =>
        this.#saved(current) >= saving.lastUpdateId
          ? { result: undefined }
          : { value: saving, result: undefined },
    ).catch((error) => this.host.logger.warn("telegram update offset not saved", { error: String(error) }));
  }

  /** The watermark saved in `doc` for this bot, or -1 (none, or another bot's: the token changed). */
  #saved(doc: unknown): number {
    const saved = doc as { lastUpdateId?: unknown; botId?: unknown } | undefined;
    return saved?.botId === this.bot?.id && Number.isSafeInteger(saved?.lastUpdateId)
      ? saved!.lastUpdateId as number
      : -1;
  }

  #receive(update: TelegramUpdate): Promise<ReceiveOutcome> {
    const message = update.message;
    if (!message?.text || !message.from) return Promise.resolve("refused");
    this.tracker.inbound();
    const senderId = String(message.from.id);
    const chatId = String(message.chat.id);
    // A chat without a type that is not the sender's own chat is treated as a group (fail closed).
    const group = message.chat.type ? message.chat.type !== "private" : chatId !== senderId;
    const bot = this.bot;
    return this.host.receive({
      senderId,
      chatId,
      text: message.text,
      messageId: String(message.message_id),
      ...(bot ? { deliveryId: `${bot.id}:${update.update_id}` } : {}),
      ...(message.from.username ?? message.from.first_name
        ? { senderName: message.from.username ?? message.from.first_name }
        : {}),
      ...(group ? { chatType: "group" as const, mentioned: addressesBot(message, bot) } : {}),
    });
  }
}

/** A group message addresses the bot when it names `@<bot username>` or replies to the bot. */
function addressesBot(message: TelegramMessage, bot: BotIdentity | undefined): boolean {
  if (!bot) return false;
  if (message.reply_to_message?.from && String(message.reply_to_message.from.id) === String(bot.id)) {
    return true;
  }
  const handle = bot.username?.toLowerCase();
  return Boolean(handle) && new RegExp(`@${handle}(?![A-Za-z0-9_])`, "i").test(message.text ?? "");
}
