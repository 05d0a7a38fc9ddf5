/**
 * Peers on Redis: each replica's record in a hash, its expiry (on Redis's clock) in a sorted set. A list
 * drops the records whose expiry passed, so a replica that died leaves the list within its TTL.
 *
 * @module
 */
import { type PeerRecord, type PeerRegistry, sortPeers } from "../peers.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

// KEYS: records, expiries. ARGV: id, record as JSON (without lastSeenAt), TTL.
const ANNOUNCE = new LuaScript(`
local peer = cjson.decode(ARGV[3])
peer.lastSeenAt = now
redis.call('HSET', KEYS[1], ARGV[2], cjson.encode(peer))
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[2])
return 0
`);

// KEYS: records, expiries. Returns the live records.
const LIST = new LuaScript(`
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
return redis.call('HVALS', KEYS[1])
`);

/** Peers of every replica on one Redis. */
export class RedisPeerRegistry implements PeerRegistry {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [ANNOUNCE, LIST];
  readonly #keys: string[];

  /** Keeps the records under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {
    this.#keys = [connection.key("peers"), connection.key("peers:expiry")];
  }

  async announce(peer: Omit<PeerRecord, "lastSeenAt">, ttlMs: number): Promise<void> {
    await this.connection.eval(ANNOUNCE, this.#keys, [
      peer.replicaId,
      JSON.stringify(peer),
      Math.max(1, ttlMs),
    ]);
  }

  async remove(replicaId: string): Promise<void> {
    await this.connection.client.hDel(this.#keys[0], replicaId);
    await this.connection.client.zRem(this.#keys[1], replicaId);
  }

  async list(): Promise<PeerRecord[]> {
    const rows = await this.connection.eval(LIST, this.#keys, []) as string[];
    return sortPeers(rows.map((row) => JSON.parse(row)));
  }
}
