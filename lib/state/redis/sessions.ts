/**
 * Session metadata on Redis: one hash of JSON entries by session key; a finished run is applied inside
 * one script, so concurrent runs lose no token count. Sessions have no TTL: they live until replaced.
 *
 * @module
 */
import type { AppendGuard, SessionEntry, SessionPatch, SessionRunUpdate, SessionStore } from "../sessions.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";
import { leaseKey, OWNER_HOLDS } from "./leases.ts";

// KEYS: sessions. ARGV: key, update (JSON; null for a field the update clears). Mirrors `applyRun`.
const APPLY_RUN = `
local raw = redis.call('HGET', KEYS[1], ARGV[2])
if not raw then return nil end
local entry, update = cjson.decode(raw), cjson.decode(ARGV[3])
if entry.sessionId ~= update.sessionId then return nil end
for field, value in pairs(update) do
  if field == 'inputTokens' or field == 'outputTokens' then
    entry[field] = entry[field] + value
  elseif field ~= 'sessionId' then
    if value == cjson.null then entry[field] = nil else entry[field] = value end
  end
end
local updated = cjson.encode(entry)
redis.call('HSET', KEYS[1], ARGV[2], updated)
return updated
`;
const RECORD_RUN = new LuaScript(APPLY_RUN);
// KEYS: sessions, then the lease. ARGV: key, update, then the lease owner (one attempt's). 0, writing
// nothing, unless that owner holds the lease.
const RECORD_RUN_IF_HELD = new LuaScript(
  OWNER_HOLDS + `
if not ownerHolds(KEYS[2], ARGV[4]) then return 0 end
` + APPLY_RUN,
);

// KEYS: sessions. ARGV: key, expected sessionId ('' for any), patch (JSON; null clears). Mirrors `applyPatch`.
const PATCH = new LuaScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[2])
if not raw then return nil end
local entry = cjson.decode(raw)
if ARGV[3] ~= '' and entry.sessionId ~= ARGV[3] then return nil end
for field, value in pairs(cjson.decode(ARGV[4])) do
  if value == cjson.null then entry[field] = nil else entry[field] = value end
end
local updated = cjson.encode(entry)
redis.call('HSET', KEYS[1], ARGV[2], updated)
return updated
`);

// KEYS: sessions. ARGV: key, expected sessionId ('' for any). Returns the removed entry.
const DELETE = new LuaScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[2])
if not raw then return nil end
if ARGV[3] ~= '' and cjson.decode(raw).sessionId ~= ARGV[3] then return nil end
redis.call('HDEL', KEYS[1], ARGV[2])
return raw
`);

/** The Redis key of the sessions' hash (entries as JSON by session key). */
export function sessionsKey(connection: RedisConnection): string {
  return connection.key("sessions");
}

/** Sessions shared by every replica on one Redis. */
export class RedisSessionStore implements SessionStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [RECORD_RUN, RECORD_RUN_IF_HELD, PATCH, DELETE];
  readonly #key: string;

  /** Keeps the sessions under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {
    this.#key = sessionsKey(connection);
  }

  async get(key: string): Promise<SessionEntry | undefined> {
    const found = await this.connection.client.hGet(this.#key, key);
    return found ? JSON.parse(found) : undefined;
  }

  async put(entry: SessionEntry): Promise<void> {
    await this.connection.client.hSet(this.#key, entry.key, JSON.stringify(entry));
  }

  async list(): Promise<SessionEntry[]> {
    return (await this.connection.client.hVals(this.#key)).map((entry) => JSON.parse(entry));
  }

  async recordRun(key: string, update: SessionRunUpdate): Promise<SessionEntry | undefined> {
    const json = JSON.stringify(update, (_, value) => value === undefined ? null : value);
    const updated = await this.connection.eval(RECORD_RUN, [this.#key], [key, json]);
    return updated ? JSON.parse(updated as string) : undefined;
  }

  async recordRunIfHeld(
    key: string,
    update: SessionRunUpdate,
    guard: AppendGuard,
  ): Promise<SessionEntry | undefined | false> {
    const json = JSON.stringify(update, (_, value) => value === undefined ? null : value);
    const keys = [this.#key, leaseKey(this.connection, guard.lease)];
    const updated = await this.connection.eval(RECORD_RUN_IF_HELD, keys, [key, json, guard.owner]);
    if (updated === 0) return false;
    return updated ? JSON.parse(updated as string) : undefined;
  }

  async create(entry: SessionEntry): Promise<{ entry: SessionEntry; created: boolean }> {
    const created = await this.connection.client.hSetNX(this.#key, entry.key, JSON.stringify(entry));
    if (created) return { entry: { ...entry }, created: true };
    const existing = await this.get(entry.key);
    // Deleted between the two calls: try again, so the caller never sees a session that is gone.
    return existing ? { entry: existing, created: false } : await this.create(entry);
  }

  async patch(
    key: string,
    patch: SessionPatch,
    expectedSessionId?: string,
  ): Promise<SessionEntry | undefined> {
    // An undefined field is left out (kept); null stays null (cleared).
    const updated = await this.connection.eval(PATCH, [this.#key], [
      key,
      expectedSessionId ?? "",
      JSON.stringify(patch),
    ]);
    return updated ? JSON.parse(updated as string) : undefined;
  }

  async delete(key: string, expectedSessionId?: string): Promise<SessionEntry | undefined> {
    const removed = await this.connection.eval(DELETE, [this.#key], [key, expectedSessionId ?? ""]);
    return removed ? JSON.parse(removed as string) : undefined;
  }
}
