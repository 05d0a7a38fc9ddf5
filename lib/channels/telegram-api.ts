/**
 * One call to the Telegram Bot API (`<apiRoot>/bot<token>/<method>`), with the shapes of what the channel
 * reads back: updates and the bot's own identity.
 *
 * @module
 */
import type { FetchLike } from "../providers/types.ts";

/** How long a Bot API call may take (beyond its long-poll timeout, for `getUpdates`). */
const CALL_TIMEOUT_MS = 15_000;

/** An update as `getUpdates` and the webhook deliver it (the fields the channel reads). */
export interface TelegramUpdate {
  update_id: number;
  message?: TelegramMessage;
}

/** A message inside an update. */
export interface TelegramMessage {
  message_id: number;
  text?: string;
  chat: { id: number | string; type?: string };
  from?: { id: number | string; first_name?: string; username?: string };
  reply_to_message?: { from?: { id: number | string } };
}

/** What `getMe` says about the bot. */
export interface BotIdentity {
  id: number;
  username?: string;
}

/** Where and as which bot calls go. */
export interface BotApiTarget {
  fetch: FetchLike;
  apiRoot: string;
  token: string;
  /** The long-poll timeout `getUpdates` asks for, in seconds. */
  pollTimeout: number;
}

/** A Bot API error with Telegram's own description. */
class TelegramApiError extends Error {
  constructor(method: string, readonly status: number, description: string) {
    super(`Telegram ${method} failed (${status}): ${description}`);
  }
}

/**
 * One Bot API call, given up after `CALL_TIMEOUT_MS` (a long poll: after its own timeout and a margin),
 * so a stalled connection neither holds a send nor stops polling for good.
 */
export async function callBotApi<T>(
  target: BotApiTarget,
  method: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<T> {
  const limitMs = method === "getUpdates" ? target.pollTimeout * 1000 + CALL_TIMEOUT_MS : CALL_TIMEOUT_MS;
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new Error(`Telegram ${method} timed out after ${limitMs} ms`)),
    limitMs,
  );
  try {
    const response = await target.fetch(`${target.apiRoot}/bot${target.token}/${method}`, {
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
      const error = new TelegramApiError(method, response.status, payload.description ?? response.statusText);
      // A 429 says how long to wait (`replies.ts` waits that long before sending again).
      const after = payload.parameters?.retry_after;
      throw typeof after === "number" ? Object.assign(error, { retryAfterMs: after * 1000 }) : error;
    }
    return payload.result as T;
  } finally {
    clearTimeout(timer);
  }
}
