/**
 * Transcripts on Redis: one list of JSON lines per transcript. An append numbers its lines after the
 * list's length inside one script, so `seq` has no gap or repeat whichever replica appends. Transcripts
 * have no TTL.
 *
 * @module
 */
import {
  type AppendGuard,
  type AppendOptions,
  type NewTranscriptEntry,
  SAVED_INPUT_WINDOW,
  type TranscriptEntry,
  type TranscriptRef,
  type TranscriptStore,
} from "../sessions.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";
import { leaseKey, OWNER_HOLDS } from "./leases.ts";
import { sessionsKey } from "./sessions.ts";
import { isRedisUnavailable } from "./unavailable.ts";

/** Lua: appends ARGV[first..] (lines as JSON objects, in order) to KEYS[1]; returns the seq before the first. */
export const pushLines = (first: number) => `
local base = redis.call('LLEN', KEYS[1])
for i = ${first}, #ARGV do
  redis.call('RPUSH', KEYS[1], '{"seq":' .. (base + i - ${first - 1}) .. ',' .. string.sub(ARGV[i], 2))
end
return base
`;

/**
 * Lua: `savedInput(key, needle, count)`, the lines among the list's last {@link SAVED_INPUT_WINDOW} that
 * hold `needle` (a run's id as its lines hold it, {@link inputNeedle}), at most `count`; nil when there are
 * none or `needle` is ''. A quote inside a JSON string is escaped, so only a line's own `runId` matches.
 */
export const SAVED_INPUT = `
local function savedInput(key, needle, count)
  if needle == '' then return nil end
  local saved = {}
  for _, line in ipairs(redis.call('LRANGE', key, -${SAVED_INPUT_WINDOW}, -1)) do
    if #saved < count and string.find(line, needle, 1, true) then saved[#saved + 1] = line end
  end
  if #saved > 0 then return saved end
  return nil
end
`;

/** Lua: returns the run's saved input (ARGV[at]'s needle) from KEYS[1] when it is there; the lines follow ARGV[at]. */
export const returnSavedInput = (at: number) => `
local saved = savedInput(KEYS[1], ARGV[${at}], #ARGV - ${at})
if saved then return saved end
`;

// KEYS: transcript. ARGV: the input's needle ('' for none), lines.
const APPEND = new LuaScript(SAVED_INPUT + returnSavedInput(2) + pushLines(3));

// KEYS: transcript, lease, sessions, then the claim's record if any. ARGV: lease owner, session key ('' for
// none), session id, claim owner ('' for none), entry to create ('' for none), the input's needle ('' for
// none), lines. Nil, with nothing written, unless the owner holds the lease, the claim (if any) is still its
// owner's (and, if it follows a lapsed one, confirmed) and the session's entry (if any) names this
// transcript; a session with no entry gets the one to create, or refuses without one.
const APPEND_IF_HELD = new LuaScript(
  OWNER_HOLDS + SAVED_INPUT + `
if not ownerHolds(KEYS[2], ARGV[2]) then return nil end
if ARGV[5] ~= '' then
  local claim = redis.call('GET', KEYS[4])
  claim = claim and cjson.decode(claim)
  if not claim or claim.owner ~= ARGV[5] or claim.lapsed then return nil end
end
if ARGV[3] ~= '' then
  local raw = redis.call('HGET', KEYS[3], ARGV[3])
  if raw then
    if cjson.decode(raw).sessionId ~= ARGV[4] then return nil end
  elseif ARGV[6] ~= '' then
    redis.call('HSET', KEYS[3], ARGV[3], ARGV[6])
  else
    return nil
  end
end
` + returnSavedInput(7) + pushLines(8),
);

// KEYS: transcript. ARGV: through, then the replacement lines as JSON objects. Every line is stored as
// `{"seq":N,...}` (APPEND writes that prefix), so renumbering rewrites only the prefix.
const COMPACT = new LuaScript(`
local through = tonumber(ARGV[2])
local lines = redis.call('LRANGE', KEYS[1], 0, -1)
local out = {}
for i = 3, #ARGV do
  out[#out + 1] = '{"seq":' .. (#out + 1) .. ',' .. string.sub(ARGV[i], 2)
end
for _, line in ipairs(lines) do
  local seq = tonumber(string.match(line, '^{"seq":(%d+),'))
  if seq > through then
    out[#out + 1] = string.gsub(line, '^{"seq":%d+,', '{"seq":' .. (#out + 1) .. ',', 1)
  end
end
redis.call('DEL', KEYS[1])
-- In slices: Lua's unpack fails past a few thousand values, and a script that fails after DEL keeps the DEL.
for i = 1, #out, 500 do
  redis.call('RPUSH', KEYS[1], unpack(out, i, math.min(i + 499, #out)))
end
return out
`);

// KEYS: transcript. Moves the lines aside to `<key>:deleted:<now>` and returns that name; nil when none.
const ARCHIVE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
local archived = KEYS[1] .. ':deleted:' .. now
redis.call('RENAME', KEYS[1], archived)
return archived
`);

// KEYS: transcript. ARGV: lines (as APPEND took them). Drops them if they are the list's last lines, seq aside.
const UNDO = new LuaScript(`
local count = #ARGV - 1
local tail = redis.call('LRANGE', KEYS[1], -count, -1)
if #tail ~= count then return 0 end
for i = 1, count do
  if string.gsub(tail[i], '^{"seq":%d+,', '{', 1) ~= ARGV[i + 1] then return 0 end
end
redis.call('LTRIM', KEYS[1], 0, -count - 1)
return count
`);

/** Transcripts shared by every replica on one Redis. */
export class RedisTranscriptStore implements TranscriptStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [APPEND, APPEND_IF_HELD, COMPACT, ARCHIVE, UNDO];

  /** Keeps the transcripts under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {}

  async append(
    ref: TranscriptRef,
    entries: readonly NewTranscriptEntry[],
    options: AppendOptions = {},
  ): Promise<TranscriptEntry[]> {
    if (entries.length === 0) return [];
    const key = this.#key(ref);
    const added = lines(entries);
    const result = await this.#undoneIfLate(
      this.connection.eval(APPEND, [key], [inputNeedle(options.inputOf), ...added]),
      key,
      options.inputOf === undefined ? added : undefined,
    );
    return appended(result as number | string[], entries);
  }

  async appendIfHeld(
    ref: TranscriptRef,
    entries: readonly NewTranscriptEntry[],
    guard: AppendGuard,
  ): Promise<TranscriptEntry[] | undefined> {
    const keys = [this.#key(ref), leaseKey(this.connection, guard.lease), sessionsKey(this.connection)];
    if (guard.claim) keys.push(guard.claim.record);
    const added = lines(entries);
    const args = [
      guard.owner,
      guard.sessionKey ?? "",
      ref.sessionId,
      guard.claim?.owner ?? "",
      guard.create ? JSON.stringify(guard.create) : "",
      inputNeedle(guard.inputOf),
      ...added,
    ];
    const result = await this.#undoneIfLate(
      this.connection.eval(APPEND_IF_HELD, keys, args),
      keys[0],
      guard.inputOf === undefined ? added : undefined,
    ) as number | string[] | null;
    return result === null ? undefined : appended(result, entries);
  }

  async read(ref: TranscriptRef): Promise<TranscriptEntry[]> {
    return (await this.connection.client.lRange(this.#key(ref), 0, -1)).map((line) => JSON.parse(line));
  }

  async compact(
    ref: TranscriptRef,
    through: number,
    replacement: readonly NewTranscriptEntry[],
  ): Promise<TranscriptEntry[]> {
    const result = await this.connection.eval(COMPACT, [this.#key(ref)], [
      String(through),
      ...lines(replacement),
    ]);
    return (result as string[]).map((line) => JSON.parse(line));
  }

  /** Renames the list to `<key>:deleted:<ms>`; archived transcripts have no TTL either. */
  async archive(ref: TranscriptRef): Promise<string | undefined> {
    const archived = await this.connection.eval(ARCHIVE, [this.#key(ref)], []);
    return archived ? String(archived) : undefined;
  }

  #key(ref: TranscriptRef): string {
    return transcriptKey(this.connection, ref);
  }

  /**
   * `append`'s reply. An append failed as unreachable may still land when Redis answers again, after its
   * caller was told it failed: `undo` (its lines) goes right behind it on the connection, so a failed
   * attempt's lines do not stay in the transcript beside its retry's. A run's input (`inputOf`) has no
   * undo: it is saved once, and an undo could take back the lines an earlier attempt saved.
   */
  async #undoneIfLate(append: Promise<unknown>, key: string, undo?: string[]): Promise<unknown> {
    try {
      return await append;
    } catch (error) {
      if (undo && isRedisUnavailable(error)) this.connection.eval(UNDO, [key], undo).catch(() => {});
      throw error;
    }
  }
}

/** The Redis key of a transcript's list (for scripts of other stores that append to it). */
export function transcriptKey(connection: RedisConnection, ref: TranscriptRef): string {
  return connection.key(`transcript:${JSON.stringify([ref.agentId, ref.sessionId])}`);
}

/** The needle `savedInput` looks for: `inputOf`'s id as its lines hold it, or '' for none. */
export function inputNeedle(inputOf: string | undefined): string {
  return inputOf === undefined ? "" : `"runId":${JSON.stringify(inputOf)}`;
}

/** What an append script answered, as lines: `entries` numbered after the seq it returned, or the run's saved input. */
export function appended(
  result: number | string[],
  entries: readonly NewTranscriptEntry[],
): TranscriptEntry[] {
  if (Array.isArray(result)) return result.map((line) => JSON.parse(line));
  return entries.map((entry, index) => ({ ...entry, seq: result + index + 1 }));
}

/** Lines as the scripts store them: without a `seq` of their own (the script puts the one it assigns first). */
export function lines(entries: readonly NewTranscriptEntry[]): string[] {
  return entries.map(({ seq: _, ...entry }: NewTranscriptEntry & { seq?: number }) => JSON.stringify(entry));
}
