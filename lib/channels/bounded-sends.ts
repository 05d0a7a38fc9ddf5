/**
 * Sends that go out after the message that caused them was answered (a pairing code), so a slow service
 * never holds up receiving. They are bounded: one in flight per chat and a few overall, so senders the
 * gateway does not know cannot pile up hanging requests; past the bound a send is not made.
 *
 * @module
 */

/** Sends in flight at most, over all chats, by default. */
export const MAX_SENDS_IN_FLIGHT = 8;

/** Background sends of one gateway, keyed by chat. */
export class BoundedSends {
  readonly #chats = new Set<string>();

  constructor(readonly maxInFlight: number = MAX_SENDS_IN_FLIGHT) {}

  /**
   * Starts `send` for `chat` unless one for that chat, or `maxInFlight` in all, are in flight; `false`
   * when it was not started. `send` must handle its own failures.
   */
  start(chat: string, send: () => Promise<void>): boolean {
    if (this.#chats.has(chat) || this.#chats.size >= this.maxInFlight) return false;
    this.#chats.add(chat);
    send().finally(() => this.#chats.delete(chat));
    return true;
  }
}
