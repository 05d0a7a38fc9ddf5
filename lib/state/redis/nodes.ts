/**
 * Connected nodes on Redis: rows in one hash by node id, their expiry times in another. Every script
 * judges expiry on one clock (`now`) and drops the rows it finds expired on the way.
 *
 * @module
 */
import type { NodeSession, NodeStore } from "../nodes.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

// Sets `live` when the row ARGV[2] names has not expired, and drops it when it has.
const LIVE = `
local expiresAt = tonumber(redis.call('HGET', KEYS[2], ARGV[2]))
local live = expiresAt ~= nil and expiresAt > now
if expiresAt and not live then
  redis.call('HDEL', KEYS[1], ARGV[2])
  redis.call('HDEL', KEYS[2], ARGV[2])
end
`;

// KEYS: rows, expiries. ARGV: node id, row, TTL.
const PUT = new LuaScript(`
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], string.format('%d', now + tonumber(ARGV[4])))
return 0
`);

// KEYS: rows, expiries. ARGV: node id, row, TTL, the row's connection id.
const REFRESH = new LuaScript(
  LIVE + `
if live and cjson.decode(redis.call('HGET', KEYS[1], ARGV[2])).connId ~= ARGV[5] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], string.format('%d', now + tonumber(ARGV[4])))
return 1
`,
);

// KEYS: rows, expiries. ARGV: node id, connection id.
const REMOVE = new LuaScript(
  LIVE + `
if not live or cjson.decode(redis.call('HGET', KEYS[1], ARGV[2])).connId ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
`,
);

// KEYS: rows, expiries. ARGV: node id.
const GET = new LuaScript(
  LIVE + `
if not live then return nil end
return redis.call('HGET', KEYS[1], ARGV[2])
`,
);

// KEYS: rows, expiries.
const LIST = new LuaScript(`
local rows = {}
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  local id, expiresAt = entries[i], tonumber(entries[i + 1])
  if expiresAt > now then
    table.insert(rows, redis.call('HGET', KEYS[1], id))
  else
    redis.call('HDEL', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
  end
end
return rows
`);

/** Connected nodes shared by every replica on one Redis. */
export class RedisNodeStore implements NodeStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [PUT, REFRESH, REMOVE, GET, LIST];
  readonly #keys: string[];

  /** Keeps its rows under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {
    this.#keys = [connection.key("nodes:rows"), connection.key("nodes:expiries")];
  }

  async put(node: NodeSession, ttlMs: number): Promise<void> {
    await this.connection.eval(PUT, this.#keys, [node.nodeId, JSON.stringify(node), Math.max(1, ttlMs)]);
  }

  async refresh(node: NodeSession, ttlMs: number): Promise<boolean> {
    const args = [node.nodeId, JSON.stringify(node), Math.max(1, ttlMs), node.connId];
    return await this.connection.eval(REFRESH, this.#keys, args) === 1;
  }

  async remove(nodeId: string, connId: string): Promise<boolean> {
    return await this.connection.eval(REMOVE, this.#keys, [nodeId, connId]) === 1;
  }

  async get(nodeId: string): Promise<NodeSession | undefined> {
    const row = await this.connection.eval(GET, this.#keys, [nodeId]);
    return typeof row === "string" ? JSON.parse(row) : undefined;
  }

  async list(): Promise<NodeSession[]> {
    const rows = await this.connection.eval(LIST, this.#keys, []);
    return (rows as string[]).map((row) => JSON.parse(row));
  }
}
