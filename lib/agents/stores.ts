/**
 * Where sessions and their transcripts live, behind two small interfaces, with in-memory
 * implementations. The durable JSONL implementations are in `jsonl-stores.ts`.
 *
 * @module
 */
import type { ToolCall } from "../providers/types.ts";

/** How a session's last run ended. */
export type RunEndState = "done" | "failed" | "killed" | "timeout";

/** One session's metadata. A reset keeps the key and starts a new `sessionId` (a new transcript). */
export interface SessionEntry {
  key: string;
  sessionId: string;
  agentId: string;
  createdAt: number;
  updatedAt: number;
  /** `provider/model` of the last run. */
  model?: string;
  lastRunId?: string;
  lastRunState?: RunEndState;
  inputTokens: number;
  outputTokens: number;
  lastMessagePreview?: string;
}

/** Session metadata by key. */
export interface SessionStore {
  get(key: string): Promise<SessionEntry | undefined>;
  put(entry: SessionEntry): Promise<void>;
  list(): Promise<SessionEntry[]>;
}

/** One transcript line. `seq` counts from 1 within a transcript. */
export interface TranscriptEntry {
  id: string;
  seq: number;
  ts: number;
  role: "user" | "assistant" | "tool" | "system";
  content: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  runId?: string;
  /** Set on assistant lines of runs that did not finish normally. */
  stopReason?: string;
}

/** Which transcript: the agent owns the folder, the session id names the file. */
export interface TranscriptRef {
  agentId: string;
  sessionId: string;
}

/** Append-only transcripts. */
export interface TranscriptStore {
  append(ref: TranscriptRef, entries: TranscriptEntry[]): Promise<void>;
  read(ref: TranscriptRef): Promise<TranscriptEntry[]>;
}

/** Sessions in process memory; gone on restart. */
export class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, SessionEntry>();

  get(key: string): Promise<SessionEntry | undefined> {
    const entry = this.#entries.get(key);
    return Promise.resolve(entry && { ...entry });
  }

  put(entry: SessionEntry): Promise<void> {
    this.#entries.set(entry.key, { ...entry });
    return Promise.resolve();
  }

  list(): Promise<SessionEntry[]> {
    return Promise.resolve([...this.#entries.values()].map((e) => ({ ...e })));
  }
}

/** Transcripts in process memory; gone on restart. */
export class MemoryTranscriptStore implements TranscriptStore {
  readonly #lines = new Map<string, TranscriptEntry[]>();

  append(ref: TranscriptRef, entries: TranscriptEntry[]): Promise<void> {
    const key = `${ref.agentId}/${ref.sessionId}`;
    const lines = this.#lines.get(key) ?? [];
    lines.push(...entries.map((e) => ({ ...e })));
    this.#lines.set(key, lines);
    return Promise.resolve();
  }

  read(ref: TranscriptRef): Promise<TranscriptEntry[]> {
    return Promise.resolve((this.#lines.get(`${ref.agentId}/${ref.sessionId}`) ?? []).map((e) => ({ ...e })));
  }
}
