/**
 * A channel of store changes, heard on the bus's subscriber connection: the scripts that change rarely
 * written state (rate-limit marks, paired devices) PUBLISH what they changed in the same script, so the
 * message leaves Redis before the writer's own reply does, and a replica keeps a local view of that state
 * current without asking Redis on every connect. A view is trusted only while the subscription is up and
 * has not been re-established since the view was built (`link`): a change published while it was down
 * was missed.
 *
 * A connection whose traffic is silently dropped (a NAT or firewall forgetting it: no FIN, no RST) still
 * reports itself ready until TCP gives up, minutes later. So the feed PINGs on the subscriber connection
 * (in subscribe mode the pong comes back in line with the messages) and trusts the link only while a pong
 * to a ping sent within `withinMs` has come back: a change made elsewhere goes unheard for at most that
 * long. A lapse counts as a drop: once a pong is heard again the link is a new one.
 *
 * @module
 */
import type { RedisClient } from "./connection.ts";

/** What a store hears on the feed: a change of its kind, and every re-established subscription. */
export interface FeedListener {
  /** A message of this listener's kind (its text after the kind). */
  changed(body: string): void;
  /** The subscription came back after a drop or a silence: changes made meanwhile may have been missed. */
  resubscribed(): void;
}

/** How often the feed checks its subscriber connection, and how stale a check may be before the link is untrusted. */
export interface FeedLiveness {
  /** A PING on the subscriber connection at most this often (one in flight at a time); 1 s by default. */
  everyMs: number;
  /** The link holds only while a ping sent within this long was answered; 3 s by default. */
  withinMs: number;
}

const DEFAULT_LIVENESS: FeedLiveness = { everyMs: 1_000, withinMs: 3_000 };

/** One channel of change messages (`<kind> <body>`) shared by the stores of a bundle. */
export class ChangeFeed {
  readonly #listeners = new Map<string, FeedListener>();
  /** Counts the subscriber's re-established connections and heard-again lapses. */
  #links = 0;
  /** When the latest answered ping was sent (or the subscription last confirmed). */
  #heardAt = performance.now();
  #pinging = false;
  #timer?: ReturnType<typeof setInterval>;

  private constructor(
    private readonly subscriber: RedisClient,
    readonly channel: string,
    private readonly liveness: FeedLiveness,
  ) {}

  /** Subscribes `subscriber` (the bus's connection) to `channel`; resolves once the subscription holds. */
  static async open(
    subscriber: RedisClient,
    channel: string,
    liveness: FeedLiveness = DEFAULT_LIVENESS,
  ): Promise<ChangeFeed> {
    const feed = new ChangeFeed(subscriber, channel, liveness);
    await subscriber.subscribe(channel, (message) => feed.#deliver(message));
    // node-redis re-sends the subscriptions before it reports the connection ready again.
    subscriber.on("ready", () => feed.#relink());
    feed.#heardAt = performance.now();
    feed.#timer = setInterval(() => feed.#check(), liveness.everyMs);
    return feed;
  }

  /** The subscription's generation while it is up and answering; `undefined` otherwise. */
  link(): number | undefined {
    return this.subscriber.isReady && !this.#stale() ? this.#links : undefined;
  }

  /** Hands messages of `kind` to `listener`. */
  listen(kind: string, listener: FeedListener): void {
    this.#listeners.set(kind, listener);
  }

  /** Stops hearing the channel (the bundle closes). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#listeners.clear();
    if (this.subscriber.isOpen) await this.subscriber.unsubscribe(this.channel).catch(() => {});
  }

  #stale(): boolean {
    return performance.now() - this.#heardAt > this.liveness.withinMs;
  }

  /** Sends the next ping unless one is still unanswered (a blackholed one never is). */
  #check(): void {
    if (this.#pinging || !this.subscriber.isReady) return;
    this.#pinging = true;
    const sentAt = performance.now();
    this.subscriber.ping().then(() => {
      const lapsed = this.#stale();
      this.#heardAt = Math.max(this.#heardAt, sentAt);
      if (lapsed && !this.#stale()) this.#relink();
    }, () => {}).finally(() => this.#pinging = false);
  }

  /** A new link: whatever was published while the old one was down or silent may have been missed. */
  #relink(): void {
    this.#heardAt = performance.now();
    this.#links++;
    for (const listener of this.#listeners.values()) listener.resubscribed();
  }

  #deliver(message: string): void {
    const space = message.indexOf(" ");
    this.#listeners.get(message.slice(0, space))?.changed(message.slice(space + 1));
  }
}
