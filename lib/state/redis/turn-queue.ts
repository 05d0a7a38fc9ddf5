/**
 * The turn queue on Redis: a list of JSON turns per session and a set of the sessions with any waiting.
 * Every step is one script, so the list and the set never disagree, and moving a turn into its transcript
 * (lease checked, turn taken out, lines appended) is one step too.
 *
 * @module
 */
import type { AppendGuard, NewTranscriptEntry, TranscriptRef } from "../sessions.ts";
import type { MoveResult, QueuedTurn, TurnQueue } from "../turn-queue.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";
import { leaseKey, OWNER_HOLDS } from "./leases.ts";
import { sessionsKey } from "./sessions.ts";
import { lines as transcriptLines, pushLines, transcriptKey } from "./transcripts.ts";

// takeTurn(queue, set, sessionKey, runId): removes the run's turn from the list (and the session from the
// set once its list is empty); returns whether there was one.
const TAKE_TURN = `
local function takeTurn(queue, set, sessionKey, runId)
  for _, item in ipairs(redis.call('LRANGE', queue, 0, -1)) do
    if cjson.decode(item).runId == runId then
      redis.call('LREM', queue, 1, item)
      if redis.call('LLEN', queue) == 0 then redis.call('SREM', set, sessionKey) end
      return item
    end
  end
  return false
end
`;

// KEYS: queue, set. ARGV: turn, session key.
const ENQUEUE = new LuaScript(`
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 0
`);

// KEYS: queue, set. ARGV: session key, run id. The turn taken, or nil.
const TAKE = new LuaScript(
  TAKE_TURN + `
local item = takeTurn(KEYS[1], KEYS[2], ARGV[2], ARGV[3])
if not item then return nil end
return item
`,
);

// KEYS: transcript, queue, set, lease, sessions. ARGV: lease owner, session key, session id, run id, lines.
// Nil (nothing changed) unless the owner holds the lease and the session's entry names this transcript;
// -1 (nothing written) when the run's turn is not queued; else the seq before the first line appended.
const MOVE = new LuaScript(
  OWNER_HOLDS + TAKE_TURN + `
if not ownerHolds(KEYS[4], ARGV[2]) then return nil end
local raw = redis.call('HGET', KEYS[5], ARGV[3])
if not raw or cjson.decode(raw).sessionId ~= ARGV[4] then return nil end
if not takeTurn(KEYS[2], KEYS[3], ARGV[3], ARGV[5]) then return -1 end
` + pushLines(6),
);

/** Waiting turns shared by every replica on one Redis. */
export class RedisTurnQueue implements TurnQueue {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [ENQUEUE, TAKE, MOVE];

  /** Keeps the queues under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {}

  async enqueue(turn: QueuedTurn): Promise<void> {
    await this.connection.eval(ENQUEUE, this.#keys(turn.sessionKey), [JSON.stringify(turn), turn.sessionKey]);
  }

  async sessions(): Promise<string[]> {
    return await this.connection.client.sMembers(this.#setKey());
  }

  async list(sessionKey: string): Promise<QueuedTurn[]> {
    const items = await this.connection.client.lRange(this.#keys(sessionKey)[0], 0, -1);
    return items.map((item) => JSON.parse(item));
  }

  async take(sessionKey: string, runId: string): Promise<QueuedTurn | undefined> {
    const item = await this.connection.eval(TAKE, this.#keys(sessionKey), [sessionKey, runId]);
    return item ? JSON.parse(String(item)) : undefined;
  }

  async moveIfHeld(
    turn: { sessionKey: string; runId: string },
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
    const args = [guard.owner, turn.sessionKey, ref.sessionId, turn.runId, ...transcriptLines(entries)];
    const base = await this.connection.eval(MOVE, keys, args) as number | null;
    if (base === null) return undefined;
    if (base === -1) return "gone";
    return entries.map((entry, index) => ({ ...entry, seq: base + index + 1 }));
  }

  /** The session's list, then the set of sessions with turns waiting. */
  #keys(sessionKey: string): [string, string] {
    return [this.connection.key(`turn-queue:${sessionKey}`), this.#setKey()];
  }

  #setKey(): string {
    return this.connection.key("turn-queues");
  }
}
