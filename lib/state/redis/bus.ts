/**
 * The event bus over Redis pub/sub: every event goes through one channel, so every replica hears every
 * event in one order (and so the events of a session in publish order). An event for this replica alone
 * (addressed to its connection ids, or `local`) goes through a channel of the replica's own: Redis hands
 * a subscriber the messages of all its channels in the order it ran the publishes, so it keeps its place
 * in that order, and the other replicas neither receive nor decode it. The subscription holds a
 * connection of its own, as pub/sub requires. While Redis is unreachable (a publish refused, or unanswered
 * within the publisher's reply bound), an event is delivered to this replica's own listeners only, in its
 * place among the events heard before it; should the failed publish still run once Redis answers, its echo
 * is dropped, so no listener hears an event twice. The echo of a turn's end (a guarded publish answered
 * yes) is handed on as soon as it is read, while the turn's sender waits for it.
 *
 * @module
 */
import type { BusEvent, EventBus, PublishGuard } from "../../bus/types.ts";
import { LuaScript, type RedisClient, type RedisConnection } from "./connection.ts";
import { leaseKey, OWNER_HOLDS } from "./leases.ts";
import { transcriptKey } from "./transcripts.ts";
import { REDIS_REPLY_TIMEOUT_MS } from "./unavailable.ts";

/** What travels on the channel: the event, the replica that published it and its number there. */
interface Envelope {
  origin: string;
  seq: number;
  event: BusEvent;
}

/**
 * A published event whose publish failed, waiting its turn behind the messages heard before it; as sent
 * (the message), so its listeners get it as it was published, as from an echo.
 */
interface Fallback {
  seq: number;
  message: string;
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

/** How many failed publishes a bus remembers, so as to drop their echo should Redis run them late. */
export const FELL_BACK_LIMIT = 10_000;

/** A bus shared by every replica subscribed to one channel of one Redis. */
export class RedisEventBus implements EventBus {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [PUBLISH_IF_HELD];
  readonly #listeners = new Set<(event: BusEvent) => void>();
  readonly #origin = crypto.randomUUID();
  /** This replica's own channel. */
  readonly #own: string;
  #closed = false;
  /** Counts the subscriber's (re)connections: events published while it was away were missed. */
  #links = 0;
  /** The last publish sent: they travel on one connection, so it settles after every one before it. */
  #lastPublish: Promise<unknown> = Promise.resolve();
  /** What else says whether the subscriber still hears (see {@link heardThrough}). */
  #hearing?: { link(): number | undefined };
  /** Numbers this replica's publishes (see {@link Envelope.seq}). */
  #published = 0;
  /** The highest number of this replica's own publishes heard back (they are heard in publish order). */
  #echoed = 0;
  /** Publishes that failed and were delivered here already: their late echo, if any, is dropped. */
  readonly #fellBack = new Set<number>();
  /** The number of a guarded publish answered yes whose echo is awaited: until then heard messages go at once. */
  #awaited = 0;
  /** Heard messages and failed publishes not yet handed to the listeners, oldest first (see {@link #queue}). */
  #heard: (string | Fallback)[] = [];

  private constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly channel: string,
    private readonly onError: (error: unknown) => void,
    private readonly connection?: RedisConnection,
  ) {
    this.#own = `${channel}:${this.#origin}`;
  }

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
    await subscriber.subscribe([channel, bus.#own], (message) => bus.#queue(message));
    subscriber.on("ready", () => {
      bus.#links++;
      // An echo awaited across the reconnection was missed: heard messages wait their immediates again.
      bus.#awaited = 0;
    });
    return bus;
  }

  publish(event: BusEvent): void {
    if (this.#closed) return;
    // Events for this replica's own sockets travel too, to keep their place in the one order.
    const seq = ++this.#published;
    const envelope: Envelope = { origin: this.#origin, seq, event };
    const channel = isOwn(event) ? this.#own : this.channel;
    const message = JSON.stringify(envelope);
    this.#lastPublish = this.publisher.publish(channel, message).catch((error) => {
      this.onError(error);
      // Redis is away: the sockets of this replica still hear what happens here (the others cannot).
      this.#queue({ seq, message });
    });
  }

  /**
   * Publishes `events` in one script that checks `guard` first (needs the bus opened with its
   * connection). Each still gets its number: one that was not published never comes back, which the
   * echo bookkeeping takes as it takes a publish that another replica's message overtook. Not delivered
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
      args.push(
        isOwn(event) ? this.#own : this.channel,
        JSON.stringify({ origin: this.#origin, seq, event }),
      );
      return seq;
    });
    const published = this.connection.eval(PUBLISH_IF_HELD, keys, args);
    this.#lastPublish = published.catch(() => {});
    try {
      const answer = await published;
      if (answer === -1) this.connection.doubtClock();
      if (answer === 1) this.#await(seqs[seqs.length - 1]);
      return answer === 1;
    } catch (error) {
      for (const seq of seqs) if (seq > this.#echoed) this.#dropEcho(seq);
      throw error;
    }
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
      await this.subscriber.unsubscribe([this.channel, this.#own]).catch(this.onError);
    }
  }

  /**
   * Hands what the subscriber heard (and failed publishes, which so keep their place behind what was heard
   * before them) to the listeners in an immediate of its own, in order. The command
   * connection writes in an immediate too (node-redis batches a tick's commands), so a command issued
   * on a reply read along with these messages (a turn's writes, once its first events are published)
   * goes to Redis before this replica fans the messages out to its sockets, not after. While a turn's end
   * is awaited ({@link #await}), they go at once instead: its sender waits, and nothing is left to write.
   */
  #queue(message: string | Fallback): void {
    const waiting = this.#heard.push(message);
    if (this.#awaited > this.#echoed) return this.#drain();
    if (waiting > 1) return;
    // Twice: a reply read in the same tick may settle (and its commands be issued) after this message's
    // handler ran, so node-redis's immediate can be queued behind a single one of ours.
    setImmediate(() => setImmediate(() => this.#drain()));
  }

  /** Hands every message heard so far to the listeners, in order. */
  #drain(): void {
    const heard = this.#heard;
    this.#heard = [];
    for (const each of heard) typeof each === "string" ? this.#decode(each) : this.#fallBack(each);
  }

  /**
   * A turn's end, published up to number `seq`, is on its way back: its sender waits for it. What was
   * heard already (the echo often is, read in the same tick as the answer) is handed on now, and what is
   * heard from now until the echo goes at once, rather than after the immediates that let a tick's commands
   * go first. Only heard messages, in the order heard: never ahead of what Redis ran before the end.
   */
  #await(seq: number): void {
    if (seq > this.#echoed) this.#awaited = Math.max(this.#awaited, seq);
    if (this.#heard.length > 0) this.#drain();
  }

  #decode(message: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(message);
    } catch (error) {
      this.onError(error);
      return;
    }
    // A replica of an older version publishes such events on the shared channel.
    if (isOwn(envelope.event) && envelope.origin !== this.#origin) return;
    if (envelope.origin === this.#origin && !this.#echo(envelope.seq)) return;
    this.#dispatch(envelope.event);
  }

  /**
   * Notes this replica's own publish `seq` heard back; false if it was delivered already, by a fallback:
   * a publish failed by the reply bound still runs when the server wakes. Publishes run in order on one
   * connection, so a fallback older than `seq` and not yet heard back never will be.
   */
  #echo(seq: number): boolean {
    // Not always the highest yet: a script the server had forgotten (NOSCRIPT) is sent again behind later
    // publishes, so its messages come back after theirs.
    this.#echoed = Math.max(this.#echoed, seq);
    if (this.#fellBack.size === 0) return true;
    for (const each of this.#fellBack) if (each < seq) this.#fellBack.delete(each);
    return !this.#fellBack.delete(seq);
  }

  /** Delivers a failed publish here, unless its echo came back before it was failed. */
  #fallBack({ seq, message }: Fallback): void {
    if (seq <= this.#echoed) return;
    this.#dropEcho(seq);
    this.#dispatch((JSON.parse(message) as Envelope).event);
  }

  /** Drops the echo of publish `seq`, should Redis run it late. */
  #dropEcho(seq: number): void {
    this.#fellBack.add(seq);
    // Kept until an echo is heard, so a long outage would keep every failed publish's number: past the
    // limit the oldest is forgotten (if its publish still runs when Redis wakes, it is heard here).
    if (this.#fellBack.size > FELL_BACK_LIMIT) this.#fellBack.delete(this.#fellBack.values().next().value!);
  }

  #dispatch(event: BusEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}

/** Whether `event` is for the publishing replica only: connection ids name its sockets alone. */
function isOwn(event: BusEvent): boolean {
  return event.connIds !== undefined || event.local === true;
}
