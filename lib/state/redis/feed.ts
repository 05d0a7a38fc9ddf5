/**
 * A channel of store changes, heard on the bus's subscriber connection: the scripts that change rarely
 * written state (rate-limit marks, paired devices) PUBLISH what they changed in the same script, so the
 * message leaves Redis before the writer's own reply does, and a replica keeps a local view of that state
 * current without asking Redis on every connect. A view is trusted only while the subscription is up and
 * has not been re-established since the view was built (`link`): a change published while it was down
 * was missed.
 *
 * @module
 */
import type { RedisClient } from "./connection.ts";

/** What a store hears on the feed: a change of its kind, and every re-established subscription. */
export interface FeedListener {
  /** A message of this listener's kind (its text after the kind). */
  changed(body: string): void;
  /** The subscription came back after a drop: changes made meanwhile were missed. */
  resubscribed(): void;
}

/** One channel of change messages (`<kind> <body>`) shared by the stores of a bundle. */
export class ChangeFeed {
  readonly #listeners = new Map<string, FeedListener>();
  /** Counts the subscriber's re-established connections. */
  #links = 0;

  private constructor(private readonly subscriber: RedisClient, readonly channel: string) {}

  /** Subscribes `subscriber` (the bus's connection) to `channel`; resolves once the subscription holds. */
  static async open(subscriber: RedisClient, channel: string): Promise<ChangeFeed> {
    const feed = new ChangeFeed(subscriber, channel);
    await subscriber.subscribe(channel, (message) => feed.#deliver(message));
    // node-redis re-sends the subscriptions before it reports the connection ready again.
    subscriber.on("ready", () => {
      feed.#links++;
      for (const listener of feed.#listeners.values()) listener.resubscribed();
    });
    return feed;
  }

  /** The subscription's generation while it is up; `undefined` while it is down. */
  link(): number | undefined {
    return this.subscriber.isReady ? this.#links : undefined;
  }

  /** Hands messages of `kind` to `listener`. */
  listen(kind: string, listener: FeedListener): void {
    this.#listeners.set(kind, listener);
  }

  /** Stops hearing the channel (the bundle closes). */
  async close(): Promise<void> {
    this.#listeners.clear();
    if (this.subscriber.isOpen) await this.subscriber.unsubscribe(this.channel).catch(() => {});
  }

  #deliver(message: string): void {
    const space = message.indexOf(" ");
    this.#listeners.get(message.slice(0, space))?.changed(message.slice(space + 1));
  }
}
