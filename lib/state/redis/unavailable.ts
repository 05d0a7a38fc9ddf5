/**
 * The one place where "Redis cannot be reached" becomes an answer: every command the Redis stores send
 * that fails for want of a server (connection refused or lost, client offline or closed, a server still
 * loading its data) rejects with a retryable `UNAVAILABLE` {@link GatewayError} naming Redis, which the
 * WebSocket error frame, the run's error and the HTTP routes (503) all pass on as it is. Errors the server
 * answered (a wrong type, a script error) stay what they are: retrying would not help.
 *
 * @module
 */
import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ErrorReply,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from "redis";
import { GatewayError } from "../../errors.ts";

/** What a client is told to wait before retrying: about how long the client takes to reconnect. */
export const REDIS_RETRY_AFTER_MS = 1_000;

/** `details.code` of the error, for clients that tell store outages from other `UNAVAILABLE`s. */
export const REDIS_UNAVAILABLE = "REDIS_UNAVAILABLE";

/** Server replies that mean "not now" rather than "never": loading after a restart, a failover, a busy script. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)\b/;

/** The client's own errors for a connection that is not there (or went away with the command). */
const CONNECTION_ERRORS = [
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  DisconnectsClientError,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
];

/** Socket errors (`node:net` codes) a command can fail with while the server is away. */
const SOCKET_CODES =
  /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/;

/** Whether `error` (from a command) means the server cannot serve it now. */
export function isRedisUnreachable(error: unknown): boolean {
  if (error instanceof ErrorReply) return TRANSIENT_REPLY.test(error.message);
  if (CONNECTION_ERRORS.some((type) => error instanceof type)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && SOCKET_CODES.test(code);
}

/**
 * Whether `error` is the one {@link redisUnavailable} makes: the command may not have run, or may run
 * still (one failed by the reply bound runs when the server wakes).
 */
export function isRedisUnavailable(error: unknown): boolean {
  return error instanceof GatewayError && error.details?.code === REDIS_UNAVAILABLE;
}

/** The error a caller gets when Redis cannot serve a command. */
export function redisUnavailable(cause: unknown): GatewayError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new GatewayError(
    "UNAVAILABLE",
    `Redis (the gateway's shared state) is unreachable: ${reason}; retry shortly`,
    { retryable: true, retryAfterMs: REDIS_RETRY_AFTER_MS, details: { code: REDIS_UNAVAILABLE } },
  );
}

/**
 * How long a command may wait for its reply. A server that stops answering without closing the connection
 * (a partition, a frozen host: no FIN, no RST) leaves a command waiting until TCP gives up, minutes later;
 * past this bound it fails as an outage instead. Far above a healthy reply, fsync included.
 */
export const REDIS_REPLY_TIMEOUT_MS = 3_000;

/**
 * `client` with every command's failure mapped by {@link isRedisUnreachable}, and failed as unreachable
 * once it has waited `replyTimeoutMs` for its reply. The stores reach Redis only through it, so a command
 * added later cannot forget either. A command failed by the bound may still run when the server wakes,
 * after its caller was told "retry" ({@link isRedisUnavailable}). What makes that safe is per store: a
 * write that takes something (an idempotency claim, a lease) or adds a turn's output lines queues its undo
 * on the same connection, which runs right behind the late write; a run's input lines and its queued turn
 * are keyed by its run id, so the retry finds them instead of adding more; the other writes put whole
 * records or set members, so one run late leaves what the retry writes anyway (a rate-limit hit or a state
 * version bump counts once more).
 */
export function guardedClient<T extends object>(client: T, replyTimeoutMs = REDIS_REPLY_TIMEOUT_MS): T {
  const replies = new ReplyDeadline(replyTimeoutMs);
  return new Proxy(client, {
    get(target, property) {
      // The client keeps private fields: its methods must run on the client itself, not on the proxy.
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result: unknown = Reflect.apply(value, target, args);
        return result instanceof Promise ? replies.watch(result) : result;
      };
    },
  });
}

/** A caller waiting for a reply: since when, and how to fail it. */
interface Waiting {
  since: number;
  fail(error: unknown): void;
}

/**
 * Fails the calls that waited too long for their reply. One timer at most, armed only while calls wait
 * (so an idle client holds none), for the oldest of them.
 *
 * The bound counts time the loop could read replies, not time it was stalled (a long task, GC, a starved
 * CPU): a reply that came in meanwhile may still sit unread, and a command sent just before the stall is
 * written only after it (node-redis writes in an immediate). So a pass runs once the loop has polled its
 * sockets (an immediate after the timer: enough on Node; Deno may take a few more turns to hand a read
 * over), and a pass whose timer fired late by a tenth of the bound or more fails no one and waits one more
 * bound. Only every other pass forgives, so a server that never answers still fails its calls, by twice
 * the bound at worst.
 */
class ReplyDeadline {
  readonly #waiting = new Set<Waiting>();
  #timer?: ReturnType<typeof setTimeout>;
  #pass?: ReturnType<typeof setImmediate>;
  /** When the armed timer is due. */
  #due = 0;
  /** Whether the last pass forgave a stall (so this one does not). */
  #forgave = false;

  constructor(private readonly timeoutMs: number) {}

  watch<R>(result: Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const waiting: Waiting = { since: performance.now(), fail: reject };
      this.#waiting.add(waiting);
      if (this.#timer === undefined) this.#arm(this.timeoutMs);
      result.then((value) => {
        this.#settled(waiting);
        resolve(value);
      }, (error: unknown) => {
        this.#settled(waiting);
        reject(isRedisUnreachable(error) ? redisUnavailable(error) : error);
      });
    });
  }

  #arm(ms: number): void {
    this.#due = performance.now() + ms;
    this.#timer = setTimeout(() => {
      const late = performance.now() - this.#due;
      this.#pass = setImmediate(() => this.#expire(late));
    }, ms);
  }

  #settled(waiting: Waiting): void {
    if (!this.#waiting.delete(waiting) || this.#waiting.size) return;
    clearTimeout(this.#timer);
    clearImmediate(this.#pass);
    this.#timer = this.#pass = undefined;
    this.#forgave = false;
  }

  /** Fails every call past the bound (the set keeps them oldest first), then waits for the next one. */
  #expire(late: number): void {
    this.#timer = this.#pass = undefined;
    this.#forgave = !this.#forgave && late >= this.timeoutMs / 10;
    if (this.#forgave) return this.#arm(this.timeoutMs);
    const now = performance.now();
    for (const waiting of this.#waiting) {
      const left = waiting.since + this.timeoutMs - now;
      if (left > 0) return this.#arm(left);
      this.#waiting.delete(waiting);
      waiting.fail(redisUnavailable(new Error(`no reply within ${this.timeoutMs} ms`)));
    }
  }
}
