/**
 * Transcripts on Redis: one list of JSON lines per transcript. An append numbers its lines after the
 * list's length inside one script, so `seq` has no gap or repeat whichever replica appends. Transcripts
 * have no TTL.
 *
 * @module
 */
import type { NewTranscriptEntry, TranscriptEntry, TranscriptRef, TranscriptStore } from "../sessions.ts";
import { LuaScript, type RedisConnection } from "./connection.ts";

// KEYS: transcript. ARGV: lines as JSON objects, in order. Returns the seq before the first.
const APPEND = new LuaScript(`
local base = redis.call('LLEN', KEYS[1])
for i = 2, #ARGV do
  redis.call('RPUSH', KEYS[1], '{"seq":' .. (base + i - 1) .. ',' .. string.sub(ARGV[i], 2))
end
return base
`);

/** Transcripts shared by every replica on one Redis. */
export class RedisTranscriptStore implements TranscriptStore {
  /** The scripts it runs, to load before first use. */
  static readonly scripts: readonly LuaScript[] = [APPEND];

  /** Keeps the transcripts under `connection`'s prefix. */
  constructor(private readonly connection: RedisConnection) {}

  async append(ref: TranscriptRef, entries: readonly NewTranscriptEntry[]): Promise<TranscriptEntry[]> {
    if (entries.length === 0) return [];
    // The line is stored without a `seq` of its own: the script puts the one it assigns first.
    const lines = entries.map(({ seq: _, ...entry }: NewTranscriptEntry & { seq?: number }) =>
      JSON.stringify(entry)
    );
    const base = await this.connection.eval(APPEND, [this.#key(ref)], lines) as number;
    return entries.map((entry, index) => ({ ...entry, seq: base + index + 1 }));
  }

  async read(ref: TranscriptRef): Promise<TranscriptEntry[]> {
    return (await this.connection.client.lRange(this.#key(ref), 0, -1)).map((line) => JSON.parse(line));
  }

  #key(ref: TranscriptRef): string {
    return this.connection.key(`transcript:${JSON.stringify([ref.agentId, ref.sessionId])}`);
  }
}
