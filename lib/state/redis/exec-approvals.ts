/**
 * Exec approvals on Redis: records by id in one hash (each answer is one script, so the first answer wins
 * on every replica), trusted commands per agent in a set.
 *
 * @module
 */
import {
  type ApprovalDecision,
  type ApprovalLimit,
  approvalLimitError,
  type ApprovalResolution,
  approvalRetained,
  type ExecApprovalRecord,
  type ExecApprovalStore,
  MAX_PENDING_APPROVALS,
  MAX_PENDING_APPROVALS_PER_ADDRESS,
  RESOLVED_APPROVAL_RETAIN_MS,
} from "../exec-approvals.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

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

// KEYS: records, decisions. ARGV: retain, id, record, per-address limit, total limit. Drops what is no
// longer retained, then adds unless a live request has the id (0) or a limit refuses a client's request
// ({'limited', limit, earliest expiry blocking}, as checkApprovalLimits decides).
const CREATE = new LuaScript(
  RETAINED + `
local record = cjson.decode(ARGV[4])
local from = record.requestedFrom
local clients, sameAddress = {}, {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local other = cjson.decode(all[i + 1])
  local d = answer(all[i])
  if not retained(other, d) then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('HDEL', KEYS[2], all[i])
  elseif d == nil and other.requestedFrom ~= nil then
    table.insert(clients, other.expiresAtMs)
    if other.requestedFrom == from then table.insert(sameAddress, other.expiresAtMs) end
  end
end
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 1 then return 0 end
if from ~= nil then
  if #sameAddress >= tonumber(ARGV[5]) then return {'limited', 'address', tostring(math.min(unpack(sameAddress)))} end
  if #clients >= tonumber(ARGV[6]) then return {'limited', 'total', tostring(math.min(unpack(clients)))} end
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
return 1
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

// KEYS: records, decisions. ARGV: id.
const EXPIRE = new LuaScript(`
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 0 end
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

  /** Keeps its records under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {
    this.#records = connection.key("exec-approvals:by-id");
    this.#decisions = connection.key("exec-approvals:decisions");
  }

  #allowKey(agentId: string): string {
    return this.connection.key(`exec-approvals:allowed:${agentId}`);
  }

  async create(record: ExecApprovalRecord, now: number): Promise<boolean> {
    const args = [
      RESOLVED_APPROVAL_RETAIN_MS,
      record.id,
      JSON.stringify(record),
      MAX_PENDING_APPROVALS_PER_ADDRESS,
      MAX_PENDING_APPROVALS,
    ];
    const created = await this.connection.eval(CREATE, [this.#records, this.#decisions], args);
    if (Array.isArray(created)) {
      const [, limit, earliest] = created as [string, ApprovalLimit, string];
      throw approvalLimitError(limit, Number(earliest) - now);
    }
    return created === 1;
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
    return await this.connection.eval(EXPIRE, [this.#records, this.#decisions], [id]) === 1;
  }

  async allow(agentId: string, command: string): Promise<void> {
    await this.connection.client.sAdd(this.#allowKey(agentId), command);
  }

  async allowed(agentId: string, command: string): Promise<boolean> {
    return Boolean(await this.connection.client.sIsMember(this.#allowKey(agentId), command));
  }
}
