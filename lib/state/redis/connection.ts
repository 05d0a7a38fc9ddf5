/**
 * One Redis/Valkey connection as the Redis stores use it: keys under a prefix, and Lua scripts that see
 * one clock. Every script is a single command, so the operations one caller issues on the connection apply
 * in the order it issued them.
 *
 * @module
 */
import type { createClient } from "redis";
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
 * How old a learnt offset of the server's clock may get before it is read again: clocks drift apart (an
 * NTP slew is at most 0.5 ms a second), so a minute keeps the estimate within tens of milliseconds.
 */
const CLOCK_REFRESH_MS = 60_000;

/**
 * A client, the prefix its keys live under and the clock its scripts run on. A command that fails because
 * Redis cannot be reached rejects with a retryable `UNAVAILABLE` naming Redis (`unavailable.ts`).
 */
export class RedisConnection {
  /** The client every store command goes through. */
  readonly client: RedisClient;
  /** The server's clock minus this process's monotonic one (`performance.now()`), erring low. */
  #offset?: number;
  /** When the offset was read (`performance.now()`), and whether a reading is under way. */
  #offsetAt = 0;
  #learning = false;

  /** `now` replaces Redis's clock (tests move time by hand); keys are `keyPrefix` + name. */
  constructor(
    client: RedisClient,
    readonly keyPrefix: string,
    private readonly now?: () => number,
  ) {
    this.client = guardedClient(client);
    if (!now) {
      client.on("ready", () => {
        this.#offset = undefined;
        void this.learnClock();
      });
    }
  }

  /**
   * Reads the server's clock (one `TIME`) to learn how far it is from this process's: at start, at every
   * reconnection (a failover may bring another server: until it is answered, {@link scriptNow} knows
   * nothing), and again once the reading is old or missing. A failed reading changes nothing.
   */
  async learnClock(): Promise<void> {
    if (this.#learning) return;
    this.#learning = true;
    try {
      const [seconds, micros] = (await this.client.sendCommand(["TIME"])) as [string, string];
      const read = performance.now();
      // The server read its clock before its answer reached us: taking it as read now errs low.
      this.#offset = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - read;
      this.#offsetAt = read;
    } catch {
      // Redis is away: read again when it is back, or on the next call that needs it.
    } finally {
      this.#learning = false;
    }
  }

  /**
   * The scripts' clock now, as this process estimates it without a round trip, never ahead of it: the
   * injected clock, or the server's from the offset {@link learnClock} learnt; `undefined` while unknown.
   */
  scriptNow(): number | undefined {
    if (this.now) return this.now();
    const now = performance.now();
    // Read in the background: sent ahead of the caller's command, it costs that command no round trip.
    if (this.#offset === undefined || now - this.#offsetAt > CLOCK_REFRESH_MS) void this.learnClock();
    return this.#offset === undefined ? undefined : now + this.#offset;
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
