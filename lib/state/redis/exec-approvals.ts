/**
 * Exec approvals on Redis: records by id in one hash (each answer is one script, so the first answer wins
 * on every replica), trusted commands per agent in a set.
 *
 * @module
 */
import {
  APPROVAL_LIMITS,
  approvalBucket,
  type ApprovalDecision,
  type ApprovalResolution,
  approvalRetained,
  type ExecApprovalRecord,
  type ExecApprovalStore,
  RESOLVED_APPROVAL_RETAIN_MS,
} from "../exec-approvals.ts";
import { type PendingLimit, pendingLimitError } from "../pending-limits.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";
import { PENDING_LIMITS_LUA } from "./pending-limits.ts";

// Whether record `r` (answered as `d`, if answered) is still findable at `now` (see approvalRetained).
const RETAINED = `
local function retained(r, d)
  if d == nil then return now < r.expiresAtMs end
  return now < math.max(r.expiresAtMs, d.resolvedAtMs + tonumber(ARGV[2]))
end
local function answer(id)
  local text = redis.call('HGET', KEYS[2], id)
  if text then return cjson.decode(text), text end
  return nil, nil
end
`;

// KEYS: records, decisions, buckets. ARGV: retain, id, record, its bucket, per-bucket limit, total limit.
// Drops what is no longer retained, then adds unless a live request has the id (0) or the caps refuse a
// client's request ({'limited', limit, earliest expiry blocking}); a client's may take another's place.
// Returns {'created', the records it took the place of...}.
const CREATE = new LuaScript(
  RETAINED + PENDING_LIMITS_LUA + `
local record = cjson.decode(ARGV[4])
local buckets = {}
local flat = redis.call('HGETALL', KEYS[3])
for i = 1, #flat, 2 do buckets[flat[i]] = flat[i + 1] end
local others = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local other = cjson.decode(all[i + 1])
  local d = answer(all[i])
  if not retained(other, d) then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('HDEL', KEYS[2], all[i])
    redis.call('HDEL', KEYS[3], all[i])
  elseif d == nil and other.requestedFrom ~= nil then
    -- A request stored before buckets were kept counts by its bare address.
    local bucket = buckets[all[i]] or other.requestedFrom
    table.insert(others, {id = all[i], bucket = bucket, expires = other.expiresAtMs})
  end
end
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 1 then return 0 end
local out = {'created'}
if record.requestedFrom ~= nil then
  local verdict = pending_limits(others, ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]))
  if verdict and verdict[1] == 'limited' then return verdict end
  if verdict then
    table.insert(out, redis.call('HGET', KEYS[1], verdict[2]))
    redis.call('HDEL', KEYS[1], verdict[2])
    redis.call('HDEL', KEYS[3], verdict[2])
  end
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
return out
`,
);

// KEYS: records, decisions. ARGV: retain, id, decision, resolvedBy (empty: none). The record is never
// re-encoded (Lua's JSON would turn its empty arrays into objects): the answer is stored beside it.
const RESOLVE = new LuaScript(
  RETAINED + `
local text = redis.call('HGET', KEYS[1], ARGV[3])
if not text then return {'missing'} end
local d, dtext = answer(ARGV[3])
if not retained(cjson.decode(text), d) then return {'missing'} end
if d ~= nil then return {'repeat', text, dtext} end
local by = cjson.null
if ARGV[5] ~= '' then by = ARGV[5] end
dtext = cjson.encode({decision = ARGV[4], resolvedBy = by, resolvedAtMs = now})
redis.call('HSET', KEYS[2], ARGV[3], dtext)
return {'resolved', text, dtext}
`,
);

// KEYS: records, decisions, buckets. ARGV: id.
const EXPIRE = new LuaScript(`
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 0 end
redis.call('HDEL', KEYS[3], ARGV[2])
return redis.call('HDEL', KEYS[1], ARGV[2])
`);

/** A record with its answer, if any. */
function merged(text: string, answer: string | null | undefined): ExecApprovalRecord {
  return { ...JSON.parse(text), ...(answer ? JSON.parse(answer) : {}) };
}

/** Exec approvals shared by every replica on one Redis. */
export class RedisExecApprovalStore implements ExecApprovalStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [CREATE, RESOLVE, EXPIRE];
  readonly #records: string;
  readonly #decisions: string;
  /** Each client request's address bucket, by id (the caps count by it). */
  readonly #buckets: string;

  /** Keeps its records under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {
    this.#records = connection.key("exec-approvals:by-id");
    this.#decisions = connection.key("exec-approvals:decisions");
    this.#buckets = connection.key("exec-approvals:buckets");
  }

  #allowKey(agentId: string): string {
    return this.connection.key(`exec-approvals:allowed:${agentId}`);
  }

  async create(record: ExecApprovalRecord, now: number): Promise<ExecApprovalRecord[] | false> {
    const args = [
      RESOLVED_APPROVAL_RETAIN_MS,
      record.id,
      JSON.stringify(record),
      approvalBucket(record) ?? "",
      APPROVAL_LIMITS.perBucket,
      APPROVAL_LIMITS.total,
    ];
    const keys = [this.#records, this.#decisions, this.#buckets];
    const created = await this.connection.eval(CREATE, keys, args);
    if (!Array.isArray(created)) return false;
    const [outcome, ...rest] = created as string[];
    if (outcome === "limited") {
      const [limit, earliest] = rest as [PendingLimit, string];
      throw pendingLimitError(APPROVAL_LIMITS, limit, Number(earliest) - now);
    }
    return rest.map((text) => merged(text, undefined));
  }

  async get(id: string, now: number): Promise<ExecApprovalRecord | undefined> {
    const { client } = this.connection;
    const [text, answer] = await Promise.all([
      client.hGet(this.#records, id),
      client.hGet(this.#decisions, id),
    ]);
    const record = text ? merged(text, answer) : undefined;
    return record && approvalRetained(record, now) ? record : undefined;
  }

  async listPending(now: number): Promise<ExecApprovalRecord[]> {
    const { client } = this.connection;
    const [records, answers] = await Promise.all([
      client.hGetAll(this.#records),
      client.hGetAll(this.#decisions),
    ]);
    return Object.entries(records).filter(([id]) => !answers[id]).map(([, text]) => merged(text, undefined))
      .filter((r) => approvalRetained(r, now)).sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  async resolve(
    id: string,
    decision: ApprovalDecision,
    resolvedBy: string | null,
    _now: number,
  ): Promise<ApprovalResolution> {
    const args = [RESOLVED_APPROVAL_RETAIN_MS, id, decision, resolvedBy ?? ""];
    const keys = [this.#records, this.#decisions];
    const [outcome, text, answer] = await this.connection.eval(RESOLVE, keys, args) as string[];
    if (outcome === "missing") return { outcome: "missing" };
    return { outcome: outcome as "resolved" | "repeat", record: merged(text, answer) };
  }

  async expire(id: string): Promise<boolean> {
    return await this.connection.eval(EXPIRE, [this.#records, this.#decisions, this.#buckets], [id]) === 1;
  }

  async allow(agentId: string, command: string): Promise<void> {
    await this.connection.client.sAdd(this.#allowKey(agentId), command);
  }

  async allowed(agentId: string, command: string): Promise<boolean> {
    return Boolean(await this.connection.client.sIsMember(this.#allowKey(agentId), command));
  }
}
