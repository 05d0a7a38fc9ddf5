/**
 * The turn queue on Redis: per session, a list of the waiting run ids in order and a hash of their turns
 * (`b:<runId>`, the JSON turn) and owners (`o:<runId>`), plus a set of the sessions with any waiting. A
 * script finds a turn by its run id in the hash, so no step decodes the session's other turns. Every step
 * is one script, so the list, the hash and the set never disagree, and moving a turn into its transcript
 * (lease checked, turn taken out, lines appended) is one step too.
 *
 * @module
 */
import type { AppendGuard, NewTranscriptEntry, TranscriptRef } from "../sessions.ts";
import type { MoveResult, QueuedTurn, TurnQueue } from "../turn-queue.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";
import { leaseKey, OWNER_HOLDS } from "./leases.ts";
import { sessionsKey } from "./sessions.ts";
import {
  appended,
  inputNeedle,
  lines as transcriptLines,
  pushLines,
  returnSavedInput,
  SAVED_INPUT,
  transcriptKey,
} from "./transcripts.ts";

// takeTurn(queue, items, set, sessionKey, runId, owner): removes the run's turn (only while `owner` owns
// it, unless owner is ''), and the session from the set once its list is empty; returns the turn or false.
const TAKE_TURN = `
local function takeTurn(queue, items, set, sessionKey, runId, owner)
  local held = redis.call('HGET', items, 'o:' .. runId)
  if not held or (owner ~= '' and held ~= owner) then return false end
  local item = redis.call('HGET', items, 'b:' .. runId)
  redis.call('HDEL', items, 'b:' .. runId, 'o:' .. runId)
  redis.call('LREM', queue, 1, runId)
  if redis.call('LLEN', queue) == 0 then redis.call('SREM', set, sessionKey) end
  return item
end
`;

// KEYS: queue, items, set. ARGV: turn, session key, run id, owner. A run id already queued keeps its place.
const ENQUEUE = new LuaScript(`
if redis.call('HEXISTS', KEYS[2], 'o:' .. ARGV[4]) == 0 then redis.call('RPUSH', KEYS[1], ARGV[4]) end
redis.call('HSET', KEYS[2], 'b:' .. ARGV[4], ARGV[2], 'o:' .. ARGV[4], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[3])
return 0
`);

// KEYS: queue, items, set. ARGV: session key, run id, owner ('' for any). The turn taken, or nil.
const TAKE = new LuaScript(
  TAKE_TURN + `
local item = takeTurn(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4])
if not item then return nil end
return item
`,
);

// KEYS: transcript, queue, items, set, lease, sessions. ARGV: lease owner, session key, session id, run id,
// turn owner ('' for any), entry to create ('' for none), the input's needle ('' for none), lines. Nil
// (nothing changed) unless the owner
// holds the lease and the session's entry names this transcript (a session with no entry gets the one to
// create, or refuses without one); -1 (nothing written) when the run's turn is not queued (or not the turn
// owner's); the run's saved input when the transcript holds it already (the turn is taken out all the
// same); else the seq before the first line appended.
const MOVE = new LuaScript(
  OWNER_HOLDS + TAKE_TURN + SAVED_INPUT + `
if not ownerHolds(KEYS[5], ARGV[2]) then return nil end
local raw = redis.call('HGET', KEYS[6], ARGV[3])
if raw then
  if cjson.decode(raw).sessionId ~= ARGV[4] then return nil end
elseif ARGV[7] == '' then
  return nil
end
if not takeTurn(KEYS[2], KEYS[3], KEYS[4], ARGV[3], ARGV[5], ARGV[6]) then return -1 end
if not raw then redis.call('HSET', KEYS[6], ARGV[3], ARGV[7]) end
` + returnSavedInput(8) + pushLines(9),
);

/** Waiting turns shared by every replica on one Redis. */
export class RedisTurnQueue implements TurnQueue {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [ENQUEUE, TAKE, MOVE];

  /** Keeps the queues under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {}

  async enqueue(turn: QueuedTurn): Promise<void> {
    const args = [JSON.stringify(turn), turn.sessionKey, turn.runId, turn.owner];
    await this.connection.eval(ENQUEUE, this.#keys(turn.sessionKey), args);
  }

  async sessions(): Promise<string[]> {
    return await this.connection.client.sMembers(this.#setKey());
  }

  async list(sessionKey: string): Promise<QueuedTurn[]> {
    const [queue, items] = this.#keys(sessionKey);
    const runIds = await this.connection.client.lRange(queue, 0, -1);
    if (!runIds.length) return [];
    const bodies = await this.connection.client.hmGet(items, runIds.map((runId) => `b:${runId}`));
    // A turn taken between the two reads is no longer waiting.
    return bodies.flatMap((body) => body ? [JSON.parse(body)] : []);
  }

  async take(sessionKey: string, runId: string, owner?: string): Promise<QueuedTurn | undefined> {
    const item = await this.connection.eval(TAKE, this.#keys(sessionKey), [sessionKey, runId, owner ?? ""]);
    return item ? JSON.parse(String(item)) : undefined;
  }

  async moveIfHeld(
    turn: { sessionKey: string; runId: string; owner?: string },
    ref: TranscriptRef,
    entries: readonly NewTranscriptEntry[],
    guard: AppendGuard,
  ): Promise<MoveResult> {
    const keys = [
      transcriptKey(this.connection, ref),
      ...this.#keys(turn.sessionKey),
      leaseKey(this.connection, guard.lease),
      sessionsKey(this.connection),
    ];
    const args = [
      guard.owner,
      turn.sessionKey,
      ref.sessionId,
      turn.runId,
      turn.owner ?? "",
      guard.create ? JSON.stringify(guard.create) : "",
      inputNeedle(guard.inputOf),
      ...transcriptLines(entries),
    ];
    const result = await this.connection.eval(MOVE, keys, args) as number | string[] | null;
    if (result === null) return undefined;
    if (result === -1) return "gone";
    return appended(result, entries);
  }

  /** The session's list of run ids, its hash of turns, then the set of sessions with turns waiting. */
  #keys(sessionKey: string): [string, string, string] {
    return [
      this.connection.key(`turn-queue:${sessionKey}`),
      this.connection.key(`turn-queue-items:${sessionKey}`),
      this.#setKey(),
    ];
  }

  #setKey(): string {
    return this.connection.key("turn-queues");
  }
}
