/**
 * Idempotency on Redis. The first caller of a key claims it with a short-lived pending record (renewed
 * while its work runs), then replaces it with the outcome for the TTL; a caller on another replica that
 * finds the claim waits for the outcome, and takes the key over when the claim vanishes (the work failed,
 * or its replica died). Duplicates within one process share the in-flight promise.
 *
 * @module
 */
import { IDEMPOTENCY_TTL_MS, IdempotencyConflict, type IdempotencyStore } from "../idempotency.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

/** How long a claim lives without renewal: a dead replica's claim frees its key this fast. */
const CLAIM_TTL_MS = 15_000;
/** How often a waiter looks for the outcome of another replica's claim. */
const POLL_MS = 20;

// KEYS: record. ARGV: fingerprint, claim TTL, owner. Returns the live record, or nil once claimed.
const CLAIM = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if raw then
  local record = cjson.decode(raw)
  if record.expiresAt == nil or record.expiresAt > now then return raw end
end
redis.call('SET', KEYS[1], cjson.encode({fingerprint = ARGV[2], owner = ARGV[4]}), 'PX', ARGV[3])
return nil
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

/** Keyed outcomes shared by every replica on one Redis, for {@link IDEMPOTENCY_TTL_MS} by default. */
export class RedisIdempotencyStore implements IdempotencyStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [CLAIM, FINISH, ABANDON, RENEW];
  readonly #inFlight = new Map<string, { fingerprint: string; result: Promise<unknown> }>();
  readonly #owner = crypto.randomUUID();

  /** Keeps records under `connection`'s prefix for `ttlMs`. */
  constructor(private readonly connection: RedisConnection, private readonly ttlMs = IDEMPOTENCY_TTL_MS) {}

  run<T>(key: string, fingerprint: string, work: () => Promise<T>): Promise<T> {
    const local = this.#inFlight.get(key);
    if (local) {
      if (local.fingerprint !== fingerprint) return Promise.reject(new IdempotencyConflict(key));
      return local.result as Promise<T>;
    }
    const result = this.#settle(key, fingerprint, work);
    this.#inFlight.set(key, { fingerprint, result });
    const forget = () => this.#inFlight.get(key)?.result === result && this.#inFlight.delete(key);
    result.then(forget, forget);
    return result;
  }

  async #settle<T>(key: string, fingerprint: string, work: () => Promise<T>): Promise<T> {
    const recordKey = this.connection.key(`idempotency:${key}`);
    for (;;) {
      const found = await this.connection.eval(CLAIM, [recordKey], [fingerprint, CLAIM_TTL_MS, this.#owner]);
      if (found === null) return await this.#runClaimed(recordKey, fingerprint, work);
      const record = JSON.parse(found as string) as StoredRecord;
      if (record.fingerprint !== fingerprint) throw new IdempotencyConflict(key);
      if (record.expiresAt !== undefined) return record.outcome as T;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async #runClaimed<T>(recordKey: string, fingerprint: string, work: () => Promise<T>): Promise<T> {
    const keys = [recordKey];
    const renewal = setInterval(() => {
      this.connection.eval(RENEW, keys, [this.#owner, CLAIM_TTL_MS]).catch(() => {});
    }, CLAIM_TTL_MS / 3);
    try {
      const outcome = await work();
      const json = outcome === undefined ? "" : JSON.stringify(outcome);
      await this.connection.eval(FINISH, keys, [this.#owner, this.ttlMs, fingerprint, json]);
      return outcome;
    } catch (error) {
      // A failed attempt must not pin the failure: the client's retry should run again.
      await this.connection.eval(ABANDON, keys, [this.#owner]).catch(() => {});
      throw error;
    } finally {
      clearInterval(renewal);
    }
  }
}
