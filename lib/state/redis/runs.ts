/**
 * Run records on Redis: each run under its own key with its TTL (and its expiry time, for an injected
 * clock), each session's unfinished runs in a sorted set by acceptance time, and every session's running
 * ones in one more (for the replica that ends the runs of dead ones). A put that finds the run ended for
 * good changes nothing, inside one script.
 *
 * @module
 */
import type { ClaimGuard } from "../idempotency.ts";
import type { RunStore, StoredRun } from "../runs.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

// Reads KEYS[1] into `run` when it has not expired.
const LIVE = `
local raw, run = redis.call('GET', KEYS[1]), nil
if raw then
  local record = cjson.decode(raw)
  if record.expiresAt > now then run = record.run end
end
`;

// KEYS: record, session index, running index, then the claim's record if any. ARGV: TTL, run JSON, run id,
// acceptedAt, ended (1/0), claim owner ('' for none), unsaved end (1/0), running (1/0), owning replica (''
// for none). Writes nothing when the claim is not its owner's (or follows a lapsed one, unconfirmed), the
// run ended for good (not unsaved), the put is another attempt's unsaved end (acceptedAt differs), or an
// owning replica is given and the record (live, not ended) does not name it. A claimed put (a turn's first)
// that finds a record of the run marks its claim lapsed: the key was used before, though its order forgot it.
const PUT = new LuaScript(
  LIVE + `
if ARGV[7] ~= '' then
  local claim = redis.call('GET', KEYS[4])
  claim = claim and cjson.decode(claim)
  if not claim or claim.owner ~= ARGV[7] or claim.lapsed then return 0 end
  if run then
    claim.lapsed = true
    redis.call('SET', KEYS[4], cjson.encode(claim), 'KEEPTTL')
    return 0
  end
end
if ARGV[10] ~= '' and (not run or run['end'] or run.replicaId ~= ARGV[10]) then return 0 end
if run and ((run['end'] and not run['end'].unsaved) or (ARGV[8] == '1' and tonumber(ARGV[5]) ~= run.acceptedAt)) then
  return 0
end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], '{"expiresAt":' .. string.format('%d', now + ttl) .. ',"run":' .. ARGV[3] .. '}', 'PX', ttl)
if ARGV[6] == '1' then
  redis.call('ZREM', KEYS[2], ARGV[4])
else
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
  if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
end
if ARGV[9] == '1' then
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[4])
elseif run and run.state == 'running' then
  redis.call('ZREM', KEYS[3], ARGV[4])
end
return 1
`,
);

// KEYS: record.
const GET = new LuaScript(
  LIVE + `
if run then return raw end
return nil
`,
);

/**
 * A script listing the records of an index (KEYS[1]; ARGV: the prefix of record keys, read without KEYS: one
 * Redis, not a cluster) that are live, not ended and pass `also` (a Lua condition on `record.run`), and
 * dropping the ids of the others from the index.
 */
const listIndex = (also: string) =>
  new LuaScript(`
local kept = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local raw = redis.call('GET', ARGV[2] .. id)
  local record = raw and cjson.decode(raw)
  if record and record.expiresAt > now and not record.run['end']${also} then
    table.insert(kept, raw)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return kept
`);

// The session index's runs still going.
const ACTIVE = listIndex("");
// The running index's runs still running.
const RUNNING = listIndex(" and record.run.state == 'running'");

/** Run records shared by every replica on one Redis. */
export class RedisRunStore implements RunStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [PUT, GET, ACTIVE, RUNNING];

  /** Keeps the runs under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {}

  put(run: StoredRun, ttlMs: number): Promise<boolean> {
    return this.#put(run, ttlMs);
  }

  async putIfClaimed(run: StoredRun, ttlMs: number, claim: ClaimGuard): Promise<boolean> {
    return await this.#put(run, ttlMs, claim);
  }

  endIfOwned(run: StoredRun, ttlMs: number): Promise<boolean> {
    if (!run.replicaId) return Promise.resolve(false);
    return this.#put(run, ttlMs, undefined, run.replicaId);
  }

  async #put(run: StoredRun, ttlMs: number, claim?: ClaimGuard, owner = ""): Promise<boolean> {
    const keys = [this.#record(run.runId), this.#index(run.sessionKey), this.#running()];
    if (claim) keys.push(claim.record);
    const args = [
      ttlMs,
      JSON.stringify(run),
      run.runId,
      run.acceptedAt,
      run.end ? "1" : "0",
      claim?.owner ?? "",
      run.end?.unsaved ? "1" : "0",
      run.state === "running" && !run.end ? "1" : "0",
      owner,
    ];
    return await this.connection.eval(PUT, keys, args) === 1;
  }

  async get(runId: string): Promise<StoredRun | undefined> {
    // The record comes back as stored: Lua's cjson would re-encode an empty array as an object.
    const found = await this.connection.eval(GET, [this.#record(runId)], []);
    return found ? (JSON.parse(found as string) as { run: StoredRun }).run : undefined;
  }

  async active(sessionKey: string): Promise<StoredRun[]> {
    const records = await this.connection.eval(ACTIVE, [this.#index(sessionKey)], [this.#record("")]);
    const runs = (records as string[]).map((raw) => (JSON.parse(raw) as { run: StoredRun }).run);
    return [...runs.filter((r) => r.state === "queued"), ...runs.filter((r) => r.state !== "queued")];
  }

  async running(): Promise<StoredRun[]> {
    const records = await this.connection.eval(RUNNING, [this.#running()], [this.#record("")]);
    return (records as string[]).map((raw) => (JSON.parse(raw) as { run: StoredRun }).run);
  }

  #record(runId: string): string {
    return this.connection.key(`run:${runId}`);
  }

  #index(sessionKey: string): string {
    return this.connection.key(`runs-of:${sessionKey}`);
  }

  #running(): string {
    return this.connection.key("runs-running");
  }
}
