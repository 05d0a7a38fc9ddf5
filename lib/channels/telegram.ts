/**
 * The Telegram channel over the Bot API (`<apiRoot>/bot<token>/<method>`): long polling with
 * `getUpdates` by default, webhook mode when `webhookUrl` is set (updates arrive at
 * `/channels/telegram/webhook` on the gateway port, checked against `webhookSecret`). Replies use
 * `sendMessage`, split at `textChunkLimit`.
 *
 * Updates are handled once: the last 2048 `update_id`s taken are remembered, and in polling mode the
 * highest id up to which every update was taken is kept in the channel state
 * (`telegram/update-offset-default.json`, tied to the bot's id; the state dir, or Redis in a cluster) so
 * a restart neither refetches nor replays what was already answered. An update whose input could not be
 * saved is not acknowledged: polling asks for it again (backing off, at most `MAX_UPDATE_ATTEMPTS` times),
 * a webhook delivery is answered 503 so Telegram sends it again. Polling runs on one replica of a cluster
 * at a time (the `telegram:default` singleton). Who is answered is decided by the channels module
 * (`access.ts`); this file says whether a message came from a group and addressed the bot.
 *
 * @module
 */
import { BodyError, bodyRefusalResponse, readJsonBody } from "../http/read-body.ts";
import { jsonResponse } from "../http/response.ts";
import { secretsEqual } from "../auth/shared-secret.ts";
import { RecentIds } from "./recent-ids.ts";
import { ChannelStatusTracker, DEFAULT_ACCOUNT_ID, secretString, timedProbe } from "./status.ts";
import type { Channel, ChannelFactory, ChannelHost, OutboundMessage, ReceiveOutcome } from "./types.ts";

/** The public Bot API root. */
export const TELEGRAM_API_ROOT = "https://api.telegram.org";
const SECRET_HEADER = "x-telegram-bot-api-secret-token";
const DEFAULT_POLL_TIMEOUT_S = 25;
const DEFAULT_CHUNK_LIMIT = 4000;
/** How long a Bot API call may take (beyond its long-poll timeout, for `getUpdates`). */
const CALL_TIMEOUT_MS = 15_000;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/**
 * Times polling asks again for an update whose input could not be saved (about a minute and a half of
 * backing off) before it skips it, so one update the gateway can never take does not stall the bot.
 */
const MAX_UPDATE_ATTEMPTS = 8;
/** Update ids remembered for dropping redeliveries (a few minutes of a busy bot, ~100 KiB at most). */
const RECENT_UPDATES = 2048;
const OFFSET_DOC = `telegram/update-offset-${DEFAULT_ACCOUNT_ID}.json`;
/** What a chat is told when its message was given up (`MAX_UPDATE_ATTEMPTS`). */
const NOT_TAKEN_TEXT =
  "This message could not be taken (the gateway's storage is unavailable). Please send it again.";
/** Largest webhook update accepted; Telegram's updates are a few KiB. */
const MAX_UPDATE_BYTES = 1024 * 1024;

interface TelegramUpdate {
  update_id: number;
  message?: {
    message_id: number;
    text?: string;
    chat: { id: number | string; type?: string };
    from?: { id: number | string; first_name?: string; username?: string };
    reply_to_message?: { from?: { id: number | string } };
  };
}

/** What `getMe` says about the bot. */
interface BotIdentity {
  id: number;
  username?: string;
}

/** A Bot API error with Telegram's own description. */
class TelegramApiError extends Error {
  constructor(method: string, readonly status: number, description: string) {
    super(`Telegram ${method} failed (${status}): ${description}`);
  }
}

/** Builds the Telegram channel from `channels.telegram`. */
export const telegramChannel: ChannelFactory = (config, env): Channel => {
  const { token, apiRoot, webhookUrl, webhookSecret, pollTimeout, chunkLimit, mode, problem } = settings(
    config,
    env,
  );
  let host: ChannelHost | undefined;
  let tracker: ChannelStatusTracker | undefined;
  /** Aborts to give up polling (the channel stops). */
  let polling: AbortController | undefined;
  /** The poll loop while this replica holds the poller. */
  let loop: Promise<void> | undefined;
  let bot: BotIdentity | undefined;
  let recent = new RecentIds(RECENT_UPDATES);
  /** Updates being handed over: a copy that arrives meanwhile (in one batch, a webhook retry) waits for it. */
  const inflight = new Map<string, Promise<ReceiveOutcome>>();
  /** The highest update id handled in polling mode (restored at start); webhook updates may come out of order. */
  let watermark = -1;

  /**
   * One Bot API call, given up after `CALL_TIMEOUT_MS` (a long poll: after its own timeout and a margin),
   * so a stalled connection neither holds a send nor stops polling for good.
   */
  async function call<T>(method: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    if (!host || !token) throw new Error(problem ?? "telegram channel is not running");
    const limitMs = method === "getUpdates" ? pollTimeout * 1000 + CALL_TIMEOUT_MS : CALL_TIMEOUT_MS;
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new Error(`Telegram ${method} timed out after ${limitMs} ms`)),
      limitMs,
    );
    try {
      const response = await host.fetch(`${apiRoot}/bot${token}/${method}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
      });
      const payload = await response.json().catch(() => ({})) as {
        ok?: boolean;
        result?: T;
        description?: string;
        parameters?: { retry_after?: number };
      };
      if (!response.ok || !payload.ok) {
        const error = new TelegramApiError(
          method,
          response.status,
          payload.description ?? response.statusText,
        );
        // A 429 says how long to wait (`replies.ts` waits that long before sending again).
        const after = payload.parameters?.retry_after;
        throw typeof after === "number" ? Object.assign(error, { retryAfterMs: after * 1000 }) : error;
      }
      return payload.result as T;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Hands an update's message to the gateway; resolves with what became of it (see `ChannelHost.receive`).
   * An update is remembered as handled only once it is not to be retried.
   */
  async function deliver(update: TelegramUpdate): Promise<ReceiveOutcome> {
    if (!Number.isSafeInteger(update?.update_id)) return "refused";
    const id = String(update.update_id);
    if (update.update_id <= watermark || recent.has(id)) {
      host?.logger.debug("telegram update already handled; skipped", { updateId: update.update_id });
      return "taken";
    }
    const pending = inflight.get(id);
    if (pending) return pending;
    const outcome = receiveMessage(update);
    inflight.set(id, outcome);
    try {
      if (await outcome !== "retry") recent.add(id);
      return outcome;
    } finally {
      inflight.delete(id);
    }
  }

  function receiveMessage(update: TelegramUpdate): Promise<ReceiveOutcome> {
    const message = update.message;
    if (!message?.text || !message.from || !host) return Promise.resolve("refused");
    tracker?.inbound();
    const senderId = String(message.from.id);
    const chatId = String(message.chat.id);
    // A chat without a type that is not the sender's own chat is treated as a group (fail closed).
    const group = message.chat.type ? message.chat.type !== "private" : chatId !== senderId;
    return host.receive({
      senderId,
      chatId,
      text: message.text,
      messageId: String(message.message_id),
      ...(bot ? { deliveryId: `${bot.id}:${update.update_id}` } : {}),
      ...(message.from.username ?? message.from.first_name
        ? { senderName: message.from.username ?? message.from.first_name }
        : {}),
      ...(group ? { chatType: "group" as const, mentioned: addressesBot(message) } : {}),
    });
  }

  /** A group message addresses the bot when it names `@<bot username>` or replies to the bot. */
  function addressesBot(message: NonNullable<TelegramUpdate["message"]>): boolean {
    if (!bot) return false;
    if (message.reply_to_message?.from && String(message.reply_to_message.from.id) === String(bot.id)) {
      return true;
    }
    const handle = bot.username?.toLowerCase();
    return Boolean(handle) && new RegExp(`@${handle}(?![A-Za-z0-9_])`, "i").test(message.text ?? "");
  }

  /** The watermark saved in `doc` for this bot, or -1 (none, or another bot's: the token changed). */
  function savedWatermark(doc: unknown): number {
    const saved = doc as { lastUpdateId?: unknown; botId?: unknown } | undefined;
    return saved?.botId === bot?.id && Number.isSafeInteger(saved?.lastUpdateId)
      ? saved!.lastUpdateId as number
      : -1;
  }

  async function restoreWatermark(): Promise<void> {
    const saved = savedWatermark(await host!.state.read(OFFSET_DOC).catch(() => undefined));
    // Never backwards: this replica may have handled more than it managed to save.
    watermark = Math.max(watermark, saved);
  }

  /**
   * Saves the polling watermark while this replica still polls (`signal`), and never below what is saved:
   * a poller that lost its lease mid-batch must not take its successor's progress back.
   */
  async function saveWatermark(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const saving = { version: 1, lastUpdateId: watermark, botId: bot?.id };
    await host!.state.update(
      OFFSET_DOC,
      (current) =>
        savedWatermark(current) >= saving.lastUpdateId
          ? { result: undefined }
          : { value: saving, result: undefined },
    ).catch((error) => host?.logger.warn("telegram update offset not saved", { error: String(error) }));
  }

  async function poll(signal: AbortSignal): Promise<void> {
    let offset = watermark + 1;
    let backoff = FIRST_BACKOFF_MS;
    const held = { updateId: -1, attempts: 0 };
    while (!signal.aborted) {
      try {
        const updates = await call<TelegramUpdate[]>("getUpdates", {
          offset,
          timeout: pollTimeout,
          allowed_updates: ["message"],
        }, signal);
        tracker?.connected(true);
        // The offset acknowledges the updates: it moves past one only once its turn's input is durable, so
        // a replica that dies now leaves them to another one (queued turns) or to Telegram (unsaved offset).
        const outcomes = await Promise.all(updates.map(deliver));
        const retry = updates.find((update, i) => outcomes[i] === "retry" && !giveUp(update, held));
        offset = retry?.update_id ?? Math.max(offset, ...updates.map((update) => update.update_id + 1));
        if (offset - 1 > watermark) {
          watermark = offset - 1;
          await saveWatermark(signal);
        }
        if (!retry) {
          backoff = FIRST_BACKOFF_MS;
          continue;
        }
        host?.logger.warn("telegram update could not be saved; asking for it again", {
          updateId: retry.update_id,
          attempt: held.attempts,
          retryInMs: backoff,
        });
      } catch (error) {
        if (signal.aborted) return;
        tracker?.connected(false);
        tracker?.failed(error);
        host?.logger.warn("telegram polling failed; retrying", { error: String(error), retryInMs: backoff });
      }
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  /**
   * Counts one more failed attempt at `update` (the first of its batch not taken); past
   * `MAX_UPDATE_ATTEMPTS` it is given up: skipped, logged, and its chat told to send it again.
   */
  function giveUp(update: TelegramUpdate, held: { updateId: number; attempts: number }): boolean {
    if (held.updateId !== update.update_id) Object.assign(held, { updateId: update.update_id, attempts: 0 });
    if (++held.attempts < MAX_UPDATE_ATTEMPTS) return false;
    host?.logger.error("telegram update skipped: its input could not be saved", {
      updateId: update.update_id,
      attempts: held.attempts,
    });
    const chat = update.message?.chat.id;
    if (chat !== undefined) {
      channel.send({ to: String(chat), text: NOT_TAKEN_TEXT, replyToId: String(update.message!.message_id) })
        .catch((error) => host?.logger.warn("telegram notice not sent", { error: String(error) }));
    }
    return true;
  }

  const channel: Channel = {
    id: "telegram",
    label: "Telegram",
    detailLabel: "Telegram Bot",
    senderIdLabel: "telegramUserId",
    async start(h) {
      host = h;
      recent = h.lasting("recent-updates", () => recent);
      tracker = new ChannelStatusTracker(h.now, {
        configured: !problem,
        mode,
        baseUrl: apiRoot,
        webhookPath: webhookUrl ? "/channels/telegram/webhook" : null,
      });
      if (problem) return tracker.failed(problem);
      try {
        bot = await call<BotIdentity>("getMe", {});
        if (webhookUrl) {
          await call("setWebhook", {
            url: webhookUrl,
            secret_token: webhookSecret,
            allowed_updates: ["message"],
          });
          tracker.connected(true);
        } else {
          // A webhook left behind by another setup makes getUpdates fail with 409.
          await call("deleteWebhook", { drop_pending_updates: false });
          // Two pollers of one bot would each get every update: one replica polls, and the one that
          // takes over starts from the offset its predecessor saved in the shared state.
          polling = new AbortController();
          h.runSingleton(`telegram:${DEFAULT_ACCOUNT_ID}`, (signal) =>
            loop = (async () => {
              await restoreWatermark();
              await poll(signal);
            })(), polling.signal);
        }
        tracker.started();
      } catch (error) {
        tracker.failed(error);
        h.logger.error("telegram channel could not start", { error: String(error) });
      }
    },
    async stop() {
      polling?.abort();
      await loop;
      polling = undefined;
      loop = undefined;
      tracker?.stopped();
    },
    async send(message: OutboundMessage) {
      let last: { message_id?: number } | undefined;
      for (const text of chunks(message.text, chunkLimit)) {
        last = await call<{ message_id: number }>("sendMessage", {
          chat_id: message.to,
          text,
          ...(message.replyToId ? { reply_parameters: { message_id: Number(message.replyToId) } } : {}),
        });
      }
      tracker?.outbound();
      return last?.message_id !== undefined ? { messageId: String(last.message_id) } : {};
    },
    status: () =>
      (tracker ??
        new ChannelStatusTracker(() => 0, { configured: !problem, lastError: problem ?? null, mode }))
        .snapshot(),
    async probe(signal) {
      const probe = await timedProbe(() => host?.now() ?? 0, async () => {
        const me = await call<{ id: number; username?: string }>("getMe", {}, signal);
        return { id: me.id, username: me.username };
      });
      tracker?.probed(probe);
      return probe;
    },
    verifyHttp(request, subPath) {
      if (subPath !== "webhook" || !webhookUrl) return jsonResponse({ ok: false, error: "not found" }, 404);
      if (request.method !== "POST") {
        return jsonResponse({ ok: false, error: "use POST" }, 405, { Allow: "POST" });
      }
      const provided = request.headers.get(SECRET_HEADER) ?? "";
      if (!webhookSecret || !secretsEqual(provided, webhookSecret)) {
        return jsonResponse({ ok: false, error: "bad secret token" }, 401);
      }
      return undefined;
    },
    async handleHttp(request) {
      if (!host) return jsonResponse({ ok: false, error: "channel stopped" }, 503);
      let update: TelegramUpdate;
      try {
        update = await readJsonBody(request, {
          maxBytes: MAX_UPDATE_BYTES,
          timeoutMs: host.bodyTimeoutMs(),
          words: { notJson: "body is not JSON" },
        }) as TelegramUpdate;
      } catch (error) {
        if (!(error instanceof BodyError)) throw error;
        return bodyRefusalResponse(error);
      }
      // A 200 tells Telegram not to send it again: answered once the message is taken.
      if (await deliver(update) === "retry") {
        return jsonResponse({ ok: false, error: "the update could not be saved; send it again" }, 503);
      }
      return new Response(null, { status: 200 });
    },
  };
  return channel;
};

/** What `channels.telegram` (and `TELEGRAM_BOT_TOKEN`) configure, and what keeps the channel from starting. */
function settings(config: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>) {
  const token = secretString(config.botToken) ?? secretString(env.TELEGRAM_BOT_TOKEN);
  const apiRoot = (typeof config.apiRoot === "string" ? config.apiRoot : TELEGRAM_API_ROOT).replace(
    /\/+$/,
    "",
  );
  const webhookUrl = typeof config.webhookUrl === "string" ? config.webhookUrl : undefined;
  const webhookSecret = secretString(config.webhookSecret);
  const pollTimeout = numberOr(config.pollTimeoutSeconds, DEFAULT_POLL_TIMEOUT_S);
  const chunkLimit = numberOr(config.textChunkLimit, DEFAULT_CHUNK_LIMIT);
  const mode = webhookUrl ? "webhook" : "polling";
  const problem = !token
    ? "no bot token: set channels.telegram.botToken or TELEGRAM_BOT_TOKEN"
    : webhookUrl && !webhookSecret
    ? "webhook mode needs channels.telegram.webhookSecret"
    : undefined;
  return { token, apiRoot, webhookUrl, webhookSecret, pollTimeout, chunkLimit, mode, problem };
}

/** Splits text at the chunk limit, preferring paragraph then line breaks. */
export function chunks(text: string, limit: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    const cut = Math.max(window.lastIndexOf("\n\n"), window.lastIndexOf("\n"));
    const at = cut > limit / 2 ? cut : limit;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^\n+/, "");
  }
  if (rest || !parts.length) parts.push(rest);
  return parts;
}

/** `value` when it is a number, `fallback` otherwise. */
function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" ? value : fallback;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
