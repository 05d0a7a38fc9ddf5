/**
 * Idempotency on Redis. The first caller of a key claims it with a short-lived pending record (renewed
 * while its work runs), then replaces it with the outcome for the TTL; a caller on another replica that
 * finds the claim waits for the outcome, and takes the key over when the claim vanishes (the work failed,
 * or its replica died). Duplicates within one process share the in-flight promise. Each namespace keeps its
 * claims in insertion order in a sorted set, and a claim past the namespace's cap deletes its oldest records.
 *
 * @module
 */
import {
  CLAIM_WON,
  IDEMPOTENCY_MAX_ENTRIES,
  IDEMPOTENCY_TTL_MS,
  type IdempotencyClaim,
  IdempotencyConflict,
  type IdempotencyStore,
} from "../idempotency.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";
import { isRedisUnavailable } from "./unavailable.ts";

/** How long a claim lives without renewal: a dead replica's claim frees its key this fast. */
const CLAIM_TTL_MS = 15_000;
/** How often a waiter looks for the outcome of another replica's claim. */
const POLL_MS = 20;

// KEYS: record, the namespace's order, the order counter. ARGV: fingerprint, claim TTL, owner, cap, order
// TTL. Returns the live record, or once claimed (and the namespace's oldest past the cap deleted) 1 when
// the order still lists the key (an earlier claim of it is gone: its outcome never recorded, or expired),
// else 0. A claim that follows a lapsed one is stored `lapsed`: the claim guards of other stores refuse it
// until the call, having found that nothing the key names went on elsewhere, confirms it (CONFIRM).
const CLAIM = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if raw then
  local record = cjson.decode(raw)
  if record.expiresAt == nil or record.expiresAt > now then return raw end
end
local lapsed = redis.call('ZSCORE', KEYS[2], KEYS[1]) and true or nil
redis.call('SET', KEYS[1], cjson.encode({fingerprint = ARGV[2], owner = ARGV[4], lapsed = lapsed}), 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), KEYS[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if excess > 0 then
  for _, key in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do redis.call('DEL', key) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
redis.call('PEXPIRE', KEYS[2], ARGV[6])
if lapsed then return 1 end
return 0
`);

// KEYS: record. ARGV: owner. The claim, if it is still this owner's, as a Lua value.
const OWNED = `
local raw = redis.call('GET', KEYS[1])
local owned = raw and cjson.decode(raw).owner == ARGV[2]
`;

// ARGV (after owner): TTL, fingerprint, outcome JSON ('' for none).
const FINISH = new LuaScript(
  OWNED + `
if not (owned or not raw) then return 0 end
local outcome = ''
if ARGV[5] ~= '' then outcome = ',"outcome":' .. ARGV[5] end
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[1], '{"expiresAt":' .. string.format('%d', now + ttl) .. ',"fingerprint":' ..
  cjson.encode(ARGV[4]) .. outcome .. '}', 'PX', ttl)
return 1
`,
);

const ABANDON = new LuaScript(
  OWNED + `
if owned then redis.call('DEL', KEYS[1]) end
return 0
`,
);

// 1 once the claim, still this owner's, is a plain pending one; 0 when it is no longer this owner's.
const CONFIRM = new LuaScript(
  OWNED + `
if not owned then return 0 end
local record = cjson.decode(raw)
record.lapsed = nil
redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
return 1
`,
);

// ARGV (after owner): claim TTL.
const RENEW = new LuaScript(
  OWNED + `
if owned then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 0
`,
);

interface StoredRecord {
  fingerprint: string;
  /** Set once the work finished (a pending claim has an `owner` instead). */
  expiresAt?: number;
  outcome?: unknown;
}

/** How long records live and how many each namespace keeps. */
export interface RedisIdempotencyOptions {
  /** How long an outcome is kept; {@link IDEMPOTENCY_TTL_MS} by default. */
  ttlMs?: number;
  /** At most this many records per namespace; {@link IDEMPOTENCY_MAX_ENTRIES} by default. */
  maxEntries?: number;
}

/** Keyed outcomes shared by every replica on one Redis, for {@link IDEMPOTENCY_TTL_MS} by default. */
export class RedisIdempotencyStore implements IdempotencyStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [CLAIM, FINISH, ABANDON, RENEW, CONFIRM];
  /** By full record key. */
  readonly #inFlight = new Map<string, { fingerprint: string; result: Promise<unknown> }>();
  readonly #owner = crypto.randomUUID();
  /**
   * Numbers this store's claims: each is made under an owner of its own, so a stale pending claim of an
   * earlier call here (its ABANDON lost in a blip) never passes for a later call's, in the append guard
   * above all.
   */
  #claims = 0;
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  /** Keeps records under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection, options: RedisIdempotencyOptions = {}) {
    this.#ttlMs = options.ttlMs ?? IDEMPOTENCY_TTL_MS;
    this.#maxEntries = options.maxEntries ?? IDEMPOTENCY_MAX_ENTRIES;
  }

  run<T>(
    namespace: string,
    key: string,
    fingerprint: string,
    work: (claim: IdempotencyClaim) => Promise<T>,
    options: { ahead?: boolean } = {},
  ): Promise<T> {
    const recordKey = this.connection.key(`idempotency:${namespace}:${key}`);
    const local = this.#inFlight.get(recordKey);
    if (local) {
      if (local.fingerprint !== fingerprint) return Promise.reject(new IdempotencyConflict(key));
      return local.result as Promise<T>;
    }
    const order = [`idempotency-order:${namespace}`, "idempotency-seq"].map((name) =>
      this.connection.key(name)
    );
    const result = this.#settle([recordKey, ...order], key, fingerprint, work, options.ahead === true);
    this.#inFlight.set(recordKey, { fingerprint, result });
    const forget = () => this.#inFlight.get(recordKey)?.result === result && this.#inFlight.delete(recordKey);
    result.then(forget, forget);
    return result;
  }

  /**
   * `keys`: the record, its namespace's order and the order counter (as {@link CLAIM} takes them). With
   * `ahead`, the first claim's work starts in the same tick as the claim, so its first commands share the
   * claim's round trip; a lost claim drops that work's outcome.
   */
  async #settle<T>(
    keys: string[],
    key: string,
    fingerprint: string,
    work: (claim: IdempotencyClaim) => Promise<T>,
    ahead: boolean,
  ): Promise<T> {
    // The order outlives the records it lists by a claim's life, then goes with an idle namespace.
    for (let first = true;; first = false) {
      const owner = `${this.#owner}:${++this.#claims}`;
      const args = [fingerprint, CLAIM_TTL_MS, owner, this.#maxEntries, this.#ttlMs + CLAIM_TTL_MS];
      const found = this.connection.eval(CLAIM, keys, args);
      let started: Promise<T> | undefined;
      const guard = { record: keys[0], owner };
      const confirm = async () => await this.connection.eval(CONFIRM, [keys[0]], [owner]) === 1;
      if (ahead && first) {
        const won = found.then((record) => typeof record !== "string");
        const lapsed = found.then((record) => record === 1);
        won.catch(() => {});
        lapsed.catch(() => {});
        started = work({ won, guard, lapsed, confirm });
        // A lost claim's work is dropped, its failure too.
        started.catch(() => {});
      }
      let raw: unknown;
      try {
        raw = await found;
      } catch (error) {
        // The claim may still land when Redis answers again: its undo goes right behind it on the
        // connection, so the caller's retry does not wait out a claim that no one holds.
        if (isRedisUnavailable(error)) this.connection.eval(ABANDON, [keys[0]], [owner]).catch(() => {});
        throw error;
      }
      if (typeof raw !== "string") {
        // Guarded even when won at once: the dispatcher hands a guarded claim to its call, which must be
        // told whether the key's claim lapsed before.
        const claim = { ...CLAIM_WON, guard, lapsed: Promise.resolve(raw === 1), confirm };
        return await this.#runClaimed(keys[0], owner, fingerprint, () => started ?? work(claim));
      }
      const record = JSON.parse(raw as string) as StoredRecord;
      if (record.fingerprint !== fingerprint) throw new IdempotencyConflict(key);
      if (record.expiresAt !== undefined) return record.outcome as T;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async #runClaimed<T>(
    recordKey: string,
    owner: string,
    fingerprint: string,
    work: () => Promise<T>,
  ): Promise<T> {
    const keys = [recordKey];
    const renewal = setInterval(() => {
      this.connection.eval(RENEW, keys, [owner, CLAIM_TTL_MS]).catch(() => {});
    }, CLAIM_TTL_MS / 3);
    try {
      const outcome = await work();
      const json = outcome === undefined ? "" : JSON.stringify(outcome);
      await this.connection.eval(FINISH, keys, [owner, this.#ttlMs, fingerprint, json]);
      return outcome;
    } catch (error) {
      // A failed attempt must not pin the failure: the client's retry should run again.
      await this.connection.eval(ABANDON, keys, [owner]).catch(() => {});
      throw error;
    } finally {
      clearInterval(renewal);
    }
  }
}
