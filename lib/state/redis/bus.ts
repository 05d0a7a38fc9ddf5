/**
 * The event bus over Redis pub/sub: every event goes through one channel, so every replica hears every
 * event in one order (and so the events of a session in publish order). This replica's listeners get its
 * own events from a copy it keeps (`own-events.ts`), each in its place in that order: a published one when
 * its echo is heard, an event for this replica alone (addressed to its connection ids, or `local`), which
 * never travels, right behind the own events before it. The events of a guarded publish (a turn's end) go
 * on its answer, so the turn's sender does not wait for the echo. The subscription holds a connection of its
 * own, as pub/sub requires. While Redis is unreachable (a publish refused, or unanswered within the
 * publisher's reply bound), an event is delivered to this replica's own listeners only, in its place among
 * the events heard before it; should the failed publish still run once Redis answers, its echo finds no copy
 * waiting and is dropped, so no listener hears an event twice.
 *
 * @module
 */
import type { BusEvent, EventBus, PublishGuard } from "../../bus/types.ts";
import { LuaScript, type RedisClient, type RedisConnection } from "./connection.ts";
import { leaseKey, OWNER_HOLDS } from "./leases.ts";
import { OwnEvents } from "./own-events.ts";
import { transcriptKey } from "./transcripts.ts";
import { REDIS_REPLY_TIMEOUT_MS } from "./unavailable.ts";

/** What travels on the channel: the event, the replica that published it and its number there. */
interface Envelope {
  origin: string;
  seq: number;
  event: BusEvent;
}

// KEYS: lease, then the transcript if a line is checked. ARGV: the deadline, lease owner, the line's seq
// ('' for none) and id (as JSON), then channel and message pairs. Publishes them, in order, only before
// the deadline while the owner holds the lease and the line is in place; 1 if it did, -1 if too late.
const PUBLISH_IF_HELD = new LuaScript(
  OWNER_HOLDS + `
if now > tonumber(ARGV[2]) then return -1 end
if not ownerHolds(KEYS[1], ARGV[3]) then return 0 end
if ARGV[4] ~= '' then
  local line = redis.call('LINDEX', KEYS[2], tonumber(ARGV[4]) - 1)
  if not line or not string.find(line, '"id":' .. ARGV[5], 1, true) then return 0 end
end
for i = 6, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return 1
`,
);

/**
 * How long after it is sent a guarded publish may still run: well inside the reply bound, past which its
 * caller is told it failed (and tells its sockets so), with room for the reply's way back and the error of
 * the estimate of the server's clock. Later, the script publishes nothing: one end of a turn, never two.
 */
export const PUBLISH_WITHIN_MS = REDIS_REPLY_TIMEOUT_MS / 2;

/** A bus shared by every replica subscribed to one channel of one Redis. */
export class RedisEventBus implements EventBus {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [PUBLISH_IF_HELD];
  readonly #listeners = new Set<(event: BusEvent) => void>();
  readonly #origin = crypto.randomUUID();
  #closed = false;
  /** Counts the subscriber's (re)connections: events published while it was away were missed. */
  #links = 0;
  /** The last publish sent: they travel on one connection, so it settles after every one before it. */
  #lastPublish: Promise<unknown> = Promise.resolve();
  /** What else says whether the subscriber still hears (see {@link heardThrough}). */
  #hearing?: { link(): number | undefined };
  /** Numbers this replica's events (see {@link Envelope.seq}). */
  #published = 0;
  /** This replica's events not yet handed to the listeners. */
  readonly #own = new OwnEvents((event) => this.#dispatch(event));
  /** Heard messages not yet handed to the listeners, oldest first (see {@link #queue}). */
  #heard: string[] = [];
  /** Whether a listener is being called: what it publishes waits for its turn. */
  #dispatching = false;

  private constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
    private readonly connection?: RedisConnection,
  ) {}

  /**
   * A bus publishing through `publisher` on `channel`, listening through `subscriber` (a connection used
   * for nothing else); resolves once it is subscribed, so no event published after is missed.
   * `onError` hears failed publishes, undecodable messages and what a listener threw. `connection`, the
   * stores' (whose client `publisher` is), runs {@link RedisEventBus.publishIfHeld}'s script on their keys.
   */
  static async open(
    publisher: RedisClient,
    subscriber: RedisClient,
    channel: string,
    onError: (error: unknown) => void,
    connection?: RedisConnection,
  ): Promise<RedisEventBus> {
    const bus = new RedisEventBus(publisher, subscriber, channel, onError, connection);
    await subscriber.subscribe([channel], (message) => bus.#queue(message));
    subscriber.on("ready", () => {
      bus.#links++;
      // Echoes of what was published while the subscriber was away never come.
      bus.#own.readyAll();
      bus.#pumpSoon();
    });
    return bus;
  }

  publish(event: BusEvent): void {
    if (this.#closed) return;
    const seq = ++this.#published;
    if (isOwn(event)) {
      if (this.#own.idle && this.#heard.length === 0 && !this.#dispatching) return this.#dispatch(event);
      // A copy, as the wire would make: the publisher may change its objects before this one's turn.
      this.#own.add(seq, JSON.parse(JSON.stringify(event)), "local");
      return this.#pumpSoon();
    }
    this.#own.add(seq, event, "published");
    // A subscriber that is away would not hear the echo.
    if (!this.subscriber.isReady) {
      this.#own.ready([seq]);
      this.#pumpSoon();
    }
    const envelope: Envelope = { origin: this.#origin, seq, event };
    this.#lastPublish = this.publisher.publish(this.channel, JSON.stringify(envelope)).catch((error) => {
      this.onError(error);
      // Redis is away: the sockets of this replica still hear what happens here (the others cannot).
      this.#own.ready([seq]);
      this.#pumpSoon();
    });
  }

  /**
   * Publishes `events` in one script that checks `guard` first (needs the bus opened with its
   * connection); those for this replica alone stay here. Published, they reach this replica's listeners
   * on the answer, in their place (behind any own event still waiting for its echo). Not delivered
   * anywhere on failure: its caller fails the turn and tells every replica's sockets so, and should Redis
   * still run the script once it wakes, past its deadline ({@link PUBLISH_WITHIN_MS}, on the server's
   * clock), it publishes nothing. Refused (`false`, nothing sent) while the server's clock is unknown.
   */
  async publishIfHeld(events: readonly BusEvent[], guard: PublishGuard): Promise<boolean> {
    const now = this.connection?.scriptNow();
    if (this.#closed || !this.connection || now === undefined) return false;
    const keys = [leaseKey(this.connection, guard.lease)];
    if (guard.line) keys.push(transcriptKey(this.connection, guard.line));
    const args = [
      Math.floor(now + PUBLISH_WITHIN_MS),
      guard.owner,
      guard.line?.seq ?? "",
      guard.line ? JSON.stringify(guard.line.id) : "",
    ];
    const seqs = events.map((event) => {
      const seq = ++this.#published;
      this.#own.add(seq, event, "guarded");
      if (!isOwn(event)) args.push(this.channel, JSON.stringify({ origin: this.#origin, seq, event }));
      return seq;
    });
    const published = this.connection.eval(PUBLISH_IF_HELD, keys, args);
    this.#lastPublish = published.catch(() => {});
    let answer: unknown;
    try {
      answer = await published;
    } catch (error) {
      this.#own.drop(seqs);
      this.#pumpSoon();
      throw error;
    }
    if (answer !== 1) {
      // Refused as too late on arrival: the estimate of the server's clock may be off.
      if (answer === -1) this.connection.doubtClock();
      this.#own.drop(seqs);
      this.#pumpSoon();
      return false;
    }
    this.#own.ready(seqs);
    // The turn's sender is waiting for these: what was heard before them goes first, now.
    this.#drain();
    return true;
  }

  link(): number | undefined {
    if (!this.subscriber.isReady || this.#closed) return undefined;
    if (!this.#hearing) return this.#links;
    // Both counts only grow, so their sum changes whenever either does: a lapse of the other check
    // followed by its recovery is a new link, as a reconnection is.
    const heard = this.#hearing.link();
    return heard === undefined ? undefined : this.#links + heard;
  }

  /**
   * Lets `check` (the change feed on the same subscriber connection, which pings it) veto the link: a
   * connection whose traffic is silently dropped stays "ready" and delivers nothing, and what was built
   * from its events must not be trusted meanwhile.
   */
  heardThrough(check: { link(): number | undefined }): void {
    this.#hearing = check;
  }

  async flush(): Promise<void> {
    await this.#lastPublish;
  }

  subscribe(listener: (event: BusEvent) => void): () => void {
    if (this.#closed) return () => {};
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    if (this.subscriber.isOpen) {
      await this.subscriber.unsubscribe([this.channel]).catch(this.onError);
    }
  }

  /**
   * Hands what the subscriber heard to the listeners in an immediate of its own, in order. The command
   * connection writes in an immediate too (node-redis batches a tick's commands), so a command issued
   * on a reply read along with these messages (a turn's writes, once its first events are published)
   * goes to Redis before this replica fans the messages out to its sockets, not after.
   */
  #queue(message: string): void {
    if (this.#heard.push(message) > 1) return;
    // Twice: a reply read in the same tick may settle (and its commands be issued) after this message's
    // handler ran, so node-redis's immediate can be queued behind a single one of ours.
    setImmediate(() => setImmediate(() => this.#drain()));
  }

  /** Hands every message heard so far, and the own events whose place that reached, to the listeners. */
  #drain(): void {
    const heard = this.#heard;
    this.#heard = [];
    for (const message of heard) this.#decode(message);
    this.#own.pump();
  }

  /**
   * Hands on the own events that have their place, unless heard messages are waiting for the immediate
   * (they go first, then) or a listener is being called (its publish goes after that event).
   */
  #pumpSoon(): void {
    if (this.#heard.length > 0 || this.#dispatching) return;
    this.#own.pump();
  }

  #decode(message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message);
    } catch (error) {
      this.onError(error);
      return;
    }
    if (envelope.origin === this.#origin) {
      // Ours: it goes in this place unless it went already (the echo of a failed publish run late).
      if (this.#own.heard(envelope.seq, envelope.event)) this.#own.pump();
      return;
    }
    // A replica of an older version publishes events for its own sockets on the shared channel.
    if (isOwn(envelope.event)) return;
    this.#dispatch(envelope.event);
    this.#own.pump();
  }

  #dispatch(event: BusEvent): void {
    this.#dispatching = true;
    try {
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (error) {
          this.onError(error);
        }
      }
    } finally {
      this.#dispatching = false;
    }
  }
}

/** Whether `event` is for the publishing replica only: connection ids name its sockets alone. */
function isOwn(event: BusEvent): boolean {
  return event.connIds !== undefined || event.local === true;
}
