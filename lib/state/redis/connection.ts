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
 * A client, the prefix its keys live under and the clock its scripts run on. A command that fails because
 * Redis cannot be reached rejects with a retryable `UNAVAILABLE` naming Redis (`unavailable.ts`).
 */
export class RedisConnection {
  /** The client every store command goes through. */
  readonly client: RedisClient;

  /** `now` replaces Redis's clock (tests move time by hand); keys are `keyPrefix` + name. */
  constructor(
    client: RedisClient,
    readonly keyPrefix: string,
    private readonly now?: () => number,
  ) {
    this.client = guardedClient(client);
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
