/**
 * Telegram long polling with `getUpdates`. The offset acknowledges updates: it moves past one only once
 * its turn's input is durable. An update whose input could not be saved is asked for again (backing off,
 * at most `MAX_UPDATE_ATTEMPTS` times), then skipped and its chat told to send it again.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import type { ChannelStatusTracker } from "./status.ts";
import type { TelegramUpdate } from "./telegram-api.ts";
import type { TelegramUpdates } from "./telegram-updates.ts";
import type { OutboundMessage } from "./types.ts";

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
/**
 * Times polling asks again for an update whose input could not be saved (about a minute and a half of
 * backing off) before it skips it, so one update the gateway can never take does not stall the bot.
 */
const MAX_UPDATE_ATTEMPTS = 8;
/** What a chat is told when its message was given up (`MAX_UPDATE_ATTEMPTS`). */
const NOT_TAKEN_TEXT =
  "This message could not be taken (the gateway's storage is unavailable). Please send it again.";

/** What the poll loop works with. */
export interface PollerDeps {
  /** `getUpdates` from `offset`, within `signal`. */
  getUpdates(offset: number, signal: AbortSignal): Promise<TelegramUpdate[]>;
  updates: TelegramUpdates;
  tracker: ChannelStatusTracker;
  logger: Logger;
  /** Sends the notice of an update given up. */
  send(message: OutboundMessage): Promise<unknown>;
}

/** The first update of a batch not taken, and how many times it was asked for. */
interface Held {
  updateId: number;
  attempts: number;
}

/** Polls until `signal` aborts, handing every update to `deps.updates` and saving the offset as it goes. */
export async function pollUpdates(deps: PollerDeps, signal: AbortSignal): Promise<void> {
  const { updates, tracker, logger } = deps;
  let offset = updates.watermark + 1;
  let backoff = FIRST_BACKOFF_MS;
  const held: Held = { updateId: -1, attempts: 0 };
  while (!signal.aborted) {
    try {
      const batch = await deps.getUpdates(offset, signal);
      tracker.connected(true);
      // A replica that dies before the offset moves leaves the batch to another one (queued turns) or to
      // Telegram (unsaved offset).
      const outcomes = await Promise.all(batch.map((update) => updates.deliver(update)));
      const retry = batch.find((update, i) => outcomes[i] === "retry" && !giveUp(deps, update, held));
      offset = retry?.update_id ?? Math.max(offset, ...batch.map((update) => update.update_id + 1));
      await updates.advance(offset - 1, signal);
      if (!retry) {
        backoff = FIRST_BACKOFF_MS;
        continue;
      }
      logger.warn("telegram update could not be saved; asking for it again", {
        updateId: retry.update_id,
        attempt: held.attempts,
        retryInMs: backoff,
      });
    } catch (error) {
      if (signal.aborted) return;
      tracker.connected(false);
      tracker.failed(error);
      logger.warn("telegram polling failed; retrying", { error: String(error), retryInMs: backoff });
    }
    await sleep(backoff, signal);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
}

/**
 * Counts one more failed attempt at `update` (the first of its batch not taken); past
 * `MAX_UPDATE_ATTEMPTS` it is given up: skipped, logged, and its chat told to send it again.
 */
function giveUp({ logger, send }: PollerDeps, update: TelegramUpdate, held: Held): boolean {
  if (held.updateId !== update.update_id) Object.assign(held, { updateId: update.update_id, attempts: 0 });
  if (++held.attempts < MAX_UPDATE_ATTEMPTS) return false;
  logger.error("telegram update skipped: its input could not be saved", {
    updateId: update.update_id,
    attempts: held.attempts,
  });
  const chat = update.message?.chat.id;
  if (chat !== undefined) {
    send({ to: String(chat), text: NOT_TAKEN_TEXT, replyToId: String(update.message!.message_id) })
      .catch((error) => logger.warn("telegram notice not sent", { error: String(error) }));
  }
  return true;
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
