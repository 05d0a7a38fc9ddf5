/**
 * The Telegram channel over the Bot API (`telegram-api.ts`): long polling with `getUpdates` by default
 * (`telegram-poller.ts`), webhook mode when `webhookUrl` is set (updates arrive at
 * `/channels/telegram/webhook` on the gateway port, checked against `webhookSecret`). Replies use
 * `sendMessage`, split at `textChunkLimit`.
 *
 * Updates are handled once (`telegram-updates.ts`: recent ids, and the polling offset kept in the channel
 * state). An update whose input could not be saved is not acknowledged: polling asks for it again, a
 * webhook delivery is answered 503 so Telegram sends it again. Polling runs on one replica of a cluster at a
 * time (the `telegram:default` singleton).
 *
 * @module
 */
import { secretsEqual } from "../auth/shared-secret.ts";
import { BodyError, bodyRefusalResponse, readJsonBody } from "../http/read-body.ts";
import { jsonResponse } from "../http/response.ts";
import { ChannelStatusTracker, DEFAULT_ACCOUNT_ID, secretString, timedProbe } from "./status.ts";
import { type BotIdentity, callBotApi, type TelegramUpdate } from "./telegram-api.ts";
import { pollUpdates } from "./telegram-poller.ts";
import { TelegramUpdates } from "./telegram-updates.ts";
import type {
  Channel,
  ChannelAccountStatus,
  ChannelFactory,
  ChannelHost,
  ChannelProbe,
  OutboundMessage,
} from "./types.ts";

/** The public Bot API root. */
export const TELEGRAM_API_ROOT = "https://api.telegram.org";
const SECRET_HEADER = "x-telegram-bot-api-secret-token";
const DEFAULT_POLL_TIMEOUT_S = 25;
const DEFAULT_CHUNK_LIMIT = 4000;
/** Largest webhook update accepted; Telegram's updates are a few KiB. */
const MAX_UPDATE_BYTES = 1024 * 1024;

/** Builds the Telegram channel from `channels.telegram`. */
export const telegramChannel: ChannelFactory = (config, env): Channel =>
  new TelegramChannel(settings(config, env));

/** What `channels.telegram` configures; see {@link settings}. */
type TelegramSettings = ReturnType<typeof settings>;

/** One Telegram bot account. */
class TelegramChannel implements Channel {
  readonly id = "telegram";
  readonly label = "Telegram";
  readonly detailLabel = "Telegram Bot";
  readonly senderIdLabel = "telegramUserId";
  #host: ChannelHost | undefined;
  #tracker: ChannelStatusTracker | undefined;
  #updates: TelegramUpdates | undefined;
  /** Aborts to give up polling (the channel stops). */
  #polling: AbortController | undefined;
  /** The poll loop while this replica holds the poller. */
  #loop: Promise<void> | undefined;

  constructor(private readonly settings: TelegramSettings) {}

  async start(host: ChannelHost): Promise<void> {
    const { problem, mode, apiRoot, webhookUrl } = this.settings;
    this.#host = host;
    const tracker = this.#tracker = new ChannelStatusTracker(host.now, {
      configured: !problem,
      mode,
      baseUrl: apiRoot,
      webhookPath: webhookUrl ? "/channels/telegram/webhook" : null,
    });
    const updates = this.#updates = new TelegramUpdates(host, tracker);
    if (problem) return tracker.failed(problem);
    try {
      updates.bot = await this.#call<BotIdentity>("getMe", {});
      if (webhookUrl) await this.#setWebhook(webhookUrl);
      else await this.#startPolling(host, updates, tracker);
      tracker.started();
    } catch (error) {
      tracker.failed(error);
      host.logger.error("telegram channel could not start", { error: String(error) });
    }
  }

  async stop(): Promise<void> {
    this.#polling?.abort();
    await this.#loop;
    this.#polling = undefined;
    this.#loop = undefined;
    this.#tracker?.stopped();
  }

  async send(message: OutboundMessage): Promise<{ messageId?: string }> {
    let last: { message_id?: number } | undefined;
    for (const text of chunks(message.text, this.settings.chunkLimit)) {
      last = await this.#call<{ message_id: number }>("sendMessage", {
        chat_id: message.to,
        text,
        ...(message.replyToId ? { reply_parameters: { message_id: Number(message.replyToId) } } : {}),
      });
    }
    this.#tracker?.outbound();
    return last?.message_id !== undefined ? { messageId: String(last.message_id) } : {};
  }

  status(): ChannelAccountStatus {
    const { problem, mode } = this.settings;
    return (this.#tracker ??
      new ChannelStatusTracker(() => 0, { configured: !problem, lastError: problem ?? null, mode }))
      .snapshot();
  }

  async probe(signal: AbortSignal): Promise<ChannelProbe> {
    const probe = await timedProbe(() => this.#host?.now() ?? 0, async () => {
      const me = await this.#call<{ id: number; username?: string }>("getMe", {}, signal);
      return { id: me.id, username: me.username };
    });
    this.#tracker?.probed(probe);
    return probe;
  }

  verifyHttp(request: Request, subPath: string): Response | undefined {
    const { webhookUrl, webhookSecret } = this.settings;
    if (subPath !== "webhook" || !webhookUrl) return jsonResponse({ ok: false, error: "not found" }, 404);
    if (request.method !== "POST") {
      return jsonResponse({ ok: false, error: "use POST" }, 405, { Allow: "POST" });
    }
    const provided = request.headers.get(SECRET_HEADER) ?? "";
    if (!webhookSecret || !secretsEqual(provided, webhookSecret)) {
      return jsonResponse({ ok: false, error: "bad secret token" }, 401);
    }
    return undefined;
  }

  async handleHttp(request: Request): Promise<Response> {
    if (!this.#host || !this.#updates) return jsonResponse({ ok: false, error: "channel stopped" }, 503);
    let update: TelegramUpdate;
    try {
      update = await readJsonBody(request, {
        maxBytes: MAX_UPDATE_BYTES,
        timeoutMs: this.#host.bodyTimeoutMs(),
        words: { notJson: "body is not JSON" },
      }) as TelegramUpdate;
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      return bodyRefusalResponse(error);
    }
    // A 200 tells Telegram not to send it again: answered once the message is taken.
    if (await this.#updates.deliver(update) === "retry") {
      return jsonResponse({ ok: false, error: "the update could not be saved; send it again" }, 503);
    }
    return new Response(null, { status: 200 });
  }

  async #setWebhook(url: string): Promise<void> {
    await this.#call("setWebhook", {
      url,
      secret_token: this.settings.webhookSecret,
      allowed_updates: ["message"],
    });
    this.#tracker!.connected(true);
  }

  async #startPolling(
    host: ChannelHost,
    updates: TelegramUpdates,
    tracker: ChannelStatusTracker,
  ): Promise<void> {
    // A webhook left behind by another setup makes getUpdates fail with 409.
    await this.#call("deleteWebhook", { drop_pending_updates: false });
    // Two pollers of one bot would each get every update: one replica polls, and the one that takes over
    // starts from the offset its predecessor saved in the shared state.
    const polling = this.#polling = new AbortController();
    const deps = {
      getUpdates: (offset: number, signal: AbortSignal) =>
        this.#call<TelegramUpdate[]>("getUpdates", {
          offset,
          timeout: this.settings.pollTimeout,
          allowed_updates: ["message"],
        }, signal),
      updates,
      tracker,
      logger: host.logger,
      send: (message: OutboundMessage) => this.send(message),
    };
    host.runSingleton(`telegram:${DEFAULT_ACCOUNT_ID}`, (signal) =>
      this.#loop = (async () => {
        await updates.restore();
        await pollUpdates(deps, signal);
      })(), polling.signal);
  }

  #call<T>(method: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    const { token, problem, apiRoot, pollTimeout } = this.settings;
    const host = this.#host;
    if (!host || !token) return Promise.reject(new Error(problem ?? "telegram channel is not running"));
    return callBotApi<T>({ fetch: host.fetch, apiRoot, token, pollTimeout }, method, body, signal);
  }
}

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
