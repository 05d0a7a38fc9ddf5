/**
 * Queued system events on Redis: one list per session, trimmed to the cap on every append and taken whole
 * (read and deleted in one script), so two replicas never take the same event.
 *
 * @module
 */
import { SYSTEM_EVENTS_CAP, type SystemEventStore } from "../system-events.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

// KEYS: queue. ARGV: text, cap.
const ENQUEUE = new LuaScript(`
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
return 0
`);

// KEYS: queue.
const TAKE = new LuaScript(`
local events = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return events
`);

/** System events shared by every replica on one Redis. */
export class RedisSystemEventStore implements SystemEventStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [ENQUEUE, TAKE];

  /** Keeps the queues under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {}

  async enqueue(sessionKey: string, text: string): Promise<void> {
    await this.connection.eval(ENQUEUE, [this.#key(sessionKey)], [text, SYSTEM_EVENTS_CAP]);
  }

  async take(sessionKey: string): Promise<string[]> {
    return await this.connection.eval(TAKE, [this.#key(sessionKey)], []) as string[];
  }

  #key(sessionKey: string): string {
    return this.connection.key(`system-events:${sessionKey}`);
  }
}
