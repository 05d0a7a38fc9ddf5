/**
 * One Redis/Valkey connection as the Redis stores use it: keys under a prefix, and Lua scripts that see
 * one clock. Every script is a single command, so the operations one caller issues on the connection apply
 * in the order it issued them.
 *
 * @module
 */
import type { createClient } from "redis";
import { ServerClock } from "./server-clock.ts";
import { guardedClient } from "./unavailable.ts";

/** A connected node-redis client. */
export type RedisClient = ReturnType<typeof createClient>;

/**
 * Every script starts with `now`: the injected clock's reading passed as `ARGV[1]`, or Redis's own `TIME`
 * when there is none, so replicas judge expiry on one clock without synchronising theirs.
 */
const NOW_PRELUDE = `local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** A Lua script; its own arguments start at `ARGV[2]` and it may read `now` (milliseconds). */
export class LuaScript {
  /** The script's SHA-1 once loaded (the same on every server, for the same text). */
  sha?: string;
  /** The full text sent to Redis. */
  readonly lua: string;
  /** `body` is the script after the clock prelude. */
  constructor(body: string) {
    this.lua = NOW_PRELUDE + body;
  }
}

/**
 * A client, the prefix its keys live under and the clock its scripts run on. A command that fails because
 * Redis cannot be reached rejects with a retryable `UNAVAILABLE` naming Redis (`unavailable.ts`).
 */
export class RedisConnection {
  /** The client every store command goes through. */
  readonly client: RedisClient;
  /** The estimate of the server's clock, unless `now` replaces it. */
  readonly #clock: ServerClock;

  /** `now` replaces Redis's clock (tests move time by hand); keys are `keyPrefix` + name. */
  constructor(
    client: RedisClient,
    readonly keyPrefix: string,
    private readonly now?: () => number,
  ) {
    this.client = guardedClient(client);
    this.#clock = new ServerClock(() => this.client.sendCommand(["TIME"]), () => client.isReady);
    // The client marks itself not ready the moment it finds its connection lost, which the estimate
    // heeds; a failover may bring another server, so the estimate is read afresh on the next connection.
    if (!now) {
      client.on("ready", () => {
        this.#clock.forget();
        void this.#clock.learn();
      });
    }
  }

  /**
   * Reads the server's clock (`TIME`) to learn how far it is from this process's: at start, at every
   * reconnection, once the reading is old, soon again after a slow one, and when a script found its
   * deadline past ({@link doubtClock}). See {@link ServerClock} for how close the estimate is.
   */
  learnClock(): Promise<void> {
    return this.now ? Promise.resolve() : this.#clock.learn();
  }

  /**
   * The scripts' clock now, as this process estimates it without a round trip, never ahead of it: the
   * injected clock, or the server's as {@link learnClock} learnt it; `undefined` while unknown, and from
   * the moment the client finds its connection lost until a reading on the next one is answered.
   */
  scriptNow(): number | undefined {
    return this.now ? this.now() : this.#clock.now();
  }

  /**
   * Reads the server's clock again at once (unless answers were slow, see `ServerClock.doubt`): a script
   * found the deadline it was given (from {@link scriptNow}) already past, which an estimate gone stale
   * explains as well as a slow arrival does.
   */
  doubtClock(): void {
    if (!this.now) this.#clock.doubt();
  }

  /** The full key of `name` under the prefix. */
  key(name: string): string {
    return this.keyPrefix + name;
  }

  /**
   * Loads scripts into this server's cache, so each later call is one EVALSHA: every time, in one round
   * trip, as a SHA known from another server this process used proves nothing about this one. A script the
   * server lacks still runs (as EVAL, after the EVALSHA's refusal), but behind the commands sent after it.
   */
  async load(scripts: readonly LuaScript[]): Promise<void> {
    await Promise.all(scripts.map(async (script) => {
      script.sha = String(await this.client.sendCommand(["SCRIPT", "LOAD", script.lua]));
    }));
  }

  /** Runs `script` on `keys` with `args` (from `ARGV[2]`). */
  async eval(
    script: LuaScript,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    const tail = [String(keys.length), ...keys, this.now ? String(this.now()) : "", ...args.map(String)];
    if (script.sha) {
      try {
        return await this.client.sendCommand(["EVALSHA", script.sha, ...tail]);
      } catch (error) {
        // A restarted or flushed server forgot its script cache; the script text still works.
        if (!String(error).includes("NOSCRIPT")) throw error;
      }
    }
    return await this.client.sendCommand(["EVAL", script.lua, ...tail]);
  }
}
