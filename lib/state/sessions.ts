/**
 * Where sessions and their transcripts live, behind two small interfaces, with in-memory
 * implementations. The durable JSONL implementations are in `jsonl-stores.ts`.
 *
 * @module
 */
import type { ToolCall, Usage } from "../providers/types.ts";
import type { ClaimGuard } from "./idempotency.ts";

/** How a session's last run ended. */
export type RunEndState = "done" | "failed" | "killed" | "timeout";

/** One session's metadata. A reset keeps the key and starts a new `sessionId` (a new transcript). */
export interface SessionEntry {
  /** The full session key (`agent:<agentId>:<rest>`), stable across resets. */
  key: string;
  /** The id of its current transcript; a reset replaces it. */
  sessionId: string;
  /** The agent whose folder holds its transcripts. */
  agentId: string;
  /** When the current transcript was started, ms since the epoch. */
  createdAt: number;
  /** When a run last ended in it (or it was created), ms since the epoch. */
  updatedAt: number;
  /** `provider/model` of the last run. */
  model?: string;
  /** The id of the last run that ended in it. */
  lastRunId?: string;
  /** How the last run ended. */
  lastRunState?: RunEndState;
  /** Input tokens of every run since the last reset, as the providers reported them. */
  inputTokens: number;
  /** Output tokens of every run since the last reset, as the providers reported them. */
  outputTokens: number;
  /** The first 200 characters of the last reply (or of the last input when there was no reply). */
  lastMessagePreview?: string;
  /** The name an operator gave it, unique among sessions (`sessions.create` / `sessions.patch`). */
  label?: string;
  /** An operator's icon for it in the session list. */
  icon?: string;
  /** An operator's colour for it in the session list. */
  color?: string;
  /** The operator's group it is filed under in the session list. */
  category?: string;
  /** When it was pinned; unset while it is not. */
  pinnedAt?: number;
  /** When it was archived; unset while it is live. */
  archivedAt?: number;
  /** When an operator marked it unread; unset once it is read. */
  markedUnreadAt?: number;
  /** When an operator last read it. */
  lastReadAt?: number;
  /** When a run in it last ended: what makes it unread for an operator who read it before. */
  lastActivityAt?: number;
  /** `provider/model` its turns run on instead of the agent's model (`sessions.patch` `model`). */
  modelOverride?: string;
  /** A title `sessions.create` was given; unlike `label` it need not be unique. */
  displayName?: string;
  /** `operator` when `sessions.create` made it; unset for sessions a turn opened. */
  createdVia?: "operator";
}

/** The session fields an operator may change in place (`sessions.patch`, archive, read marks). */
export type SessionPatchField =
  | "label"
  | "icon"
  | "color"
  | "category"
  | "pinnedAt"
  | "archivedAt"
  | "markedUnreadAt"
  | "lastReadAt"
  | "modelOverride"
  | "updatedAt";

/** A change to those fields: a value replaces the field, `null` clears it, an absent field stays. */
export type SessionPatch = { [F in SessionPatchField]?: SessionEntry[F] | null };

/** `entry` with `patch` applied; `undefined` when it is missing or no longer has `expectedSessionId`. */
export function applyPatch(
  entry: SessionEntry | undefined,
  patch: SessionPatch,
  expectedSessionId?: string,
): SessionEntry | undefined {
  if (!entry || (expectedSessionId !== undefined && entry.sessionId !== expectedSessionId)) return undefined;
  const next: Record<string, unknown> = { ...entry };
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete next[field];
    else if (value !== undefined) next[field] = value;
  }
  return next as unknown as SessionEntry;
}

/**
 * What a finished run changes in its session, applied atomically by {@link SessionStore.recordRun}:
 * token counts are added to the session's, the other fields replace its own.
 */
export interface SessionRunUpdate {
  /** The transcript the run wrote to: when the session was reset since, nothing changes. */
  sessionId: string;
  /** When the run ended. */
  updatedAt: number;
  /** `provider/model` that served the run. */
  model?: string;
  /** The run's id. */
  lastRunId: string;
  /** How the run ended. */
  lastRunState: RunEndState;
  /** The start of the reply (or of the input when there was none). */
  lastMessagePreview?: string;
  /** When the run ended, as activity an operator has not read yet. */
  lastActivityAt?: number;
  /** Input tokens this run used, added to the session's total. */
  inputTokens: number;
  /** Output tokens this run used, added to the session's total. */
  outputTokens: number;
}

/** Session metadata by key. */
export interface SessionStore {
  /** The session with this full key, or `undefined` when there is none. */
  get(key: string): Promise<SessionEntry | undefined>;
  /** Creates or replaces a session (a new session, a reset). */
  put(entry: SessionEntry): Promise<void>;
  /** Every session, in no particular order. */
  list(): Promise<SessionEntry[]>;
  /**
   * Applies a finished run to its session as one atomic step and returns the session as it is now;
   * `undefined` (and no change) when the session is gone or its `sessionId` is no longer the run's.
   */
  recordRun(key: string, update: SessionRunUpdate): Promise<SessionEntry | undefined>;
  /**
   * Applies a finished run as {@link recordRun} does, only while `guard`'s lease is held by its owner,
   * checked in the same atomic step (the entry check is `update.sessionId`'s); `false`, having changed
   * nothing, when it is not. Optional, like `TranscriptStore.appendIfHeld`: a turn whose lease lapsed must
   * not write a finished run onto a session another replica runs now.
   */
  recordRunIfHeld?(
    key: string,
    update: SessionRunUpdate,
    guard: AppendGuard,
  ): Promise<SessionEntry | undefined | false>;
  /**
   * Stores `entry` unless a session with its key exists, as one atomic step; returns the session now
   * stored under the key and whether it is the new one.
   */
  create(entry: SessionEntry): Promise<{ entry: SessionEntry; created: boolean }>;
  /**
   * Applies `patch` ({@link applyPatch}) as one atomic step and returns the session as it is now;
   * `undefined` (and no change) when it is missing or its `sessionId` is not `expectedSessionId`.
   */
  patch(key: string, patch: SessionPatch, expectedSessionId?: string): Promise<SessionEntry | undefined>;
  /**
   * Removes the session as one atomic step and returns it; `undefined` (and no change) when it is
   * missing or its `sessionId` is not `expectedSessionId`. Its transcripts are the caller's to archive.
   */
  delete(key: string, expectedSessionId?: string): Promise<SessionEntry | undefined>;
}

/** A session with a finished run applied, or `undefined` when the run's transcript is not current. */
export function applyRun(
  entry: SessionEntry | undefined,
  update: SessionRunUpdate,
): SessionEntry | undefined {
  if (!entry || entry.sessionId !== update.sessionId) return undefined;
  const { sessionId: _, inputTokens, outputTokens, ...fields } = update;
  return {
    ...entry,
    ...fields,
    inputTokens: entry.inputTokens + inputTokens,
    outputTokens: entry.outputTokens + outputTokens,
  };
}

/** One transcript line. `seq` counts from 1 within a transcript. */
export interface TranscriptEntry {
  /** The line's own id, unique within the transcript. */
  id: string;
  /** Its position in the transcript, from 1, with no gap. */
  seq: number;
  /** When it was written, ms since the epoch. */
  ts: number;
  /** Who wrote it: the turn's input (`user`), the model (`assistant`), a tool's result, or the system. */
  role: "user" | "assistant" | "tool" | "system";
  /** The message text (for a `tool` line, the tool's output). */
  content: string;
  /** The tools an `assistant` line asked to call. */
  toolCalls?: ToolCall[];
  /** On a `tool` line, the id of the call it answers. */
  toolCallId?: string;
  /** The run that wrote the line. */
  runId?: string;
  /** On assistant lines: why the model stopped (`stop`, `length`, `toolUse`), or `aborted` / `error`. */
  stopReason?: string;
  /** On assistant lines: the model that wrote it, as `provider/model`. */
  model?: string;
  /** On assistant lines: the reply's token counts, when the provider reported them. */
  usage?: Usage;
}

/** Which transcript: the agent owns the folder, the session id names the file. */
export interface TranscriptRef {
  /** The agent whose folder holds the transcript. */
  agentId: string;
  /** The session's current id ({@link SessionEntry.sessionId}), which names the file. */
  sessionId: string;
}

/** A transcript line before the store numbered it. */
export type NewTranscriptEntry = Omit<TranscriptEntry, "seq">;

/** Append-only transcripts. */
export interface TranscriptStore {
  /**
   * Appends lines in order as one atomic step, numbering them after the transcript's last line
   * (`seq` 1, 2, ... with no gap, whoever else appends), and returns them numbered; `options.inputOf`
   * makes the lines a run's input, written once ({@link AppendOptions}).
   */
  append(
    ref: TranscriptRef,
    entries: readonly NewTranscriptEntry[],
    options?: AppendOptions,
  ): Promise<TranscriptEntry[]>;
  /** Every line of the transcript in `seq` order; none for a transcript never written. */
  read(ref: TranscriptRef): Promise<TranscriptEntry[]>;
  /**
   * Replaces the lines numbered up to `through` with `replacement` as one atomic step, and numbers the
   * result again from 1 (lines appended meanwhile are kept, after the replacement). Returns the
   * transcript as it is now.
   */
  compact(
    ref: TranscriptRef,
    through: number,
    replacement: readonly NewTranscriptEntry[],
  ): Promise<TranscriptEntry[]>;
  /**
   * Takes the transcript out of use: it reads as empty afterwards. Returns where its lines were kept
   * (a file or key name), or `undefined` when it had none or the store keeps no archive.
   */
  archive(ref: TranscriptRef): Promise<string | undefined>;
  /**
   * Appends as {@link append} does, only while `guard` holds, checked in the same atomic step; resolves
   * `undefined`, having written nothing, when it does not. Optional: a networked store offers it so a
   * turn can send its input right behind its attempt at the session's lease, before it knows the
   * answer (on Redis the two share one round trip and one fsync).
   */
  appendIfHeld?(
    ref: TranscriptRef,
    entries: readonly NewTranscriptEntry[],
    guard: AppendGuard,
  ): Promise<TranscriptEntry[] | undefined>;
}

/** How an append treats the lines it is given. */
export interface AppendOptions {
  /**
   * The run whose input the lines are. When one of the transcript's last {@link SAVED_INPUT_WINDOW}
   * lines is already that run's (its replica saved the input and died mid-turn, and its call was sent
   * again under the same run id), nothing is written: the run's saved lines there, as many as were given,
   * come back in place of the new ones, in the same atomic step.
   */
  inputOf?: string;
}

/** How far back from a transcript's end an append looks for its run's saved input. */
export const SAVED_INPUT_WINDOW = 16;

/** The lines of `runId` among the transcript's last {@link SAVED_INPUT_WINDOW}, at most `count`; undefined if none. */
export function savedInput(
  lines: readonly TranscriptEntry[],
  runId: string | undefined,
  count: number,
): TranscriptEntry[] | undefined {
  if (runId === undefined) return undefined;
  const saved = lines.slice(-SAVED_INPUT_WINDOW).filter((line) => line.runId === runId).slice(0, count);
  return saved.length ? saved.map((line) => ({ ...line })) : undefined;
}

/** What must hold for {@link TranscriptStore.appendIfHeld} to write; `inputOf` as for any append. */
export interface AppendGuard extends AppendOptions {
  /** The session whose stored entry must name the transcript (its `sessionId`); unchecked when unset. */
  sessionKey?: string;
  /** The lease, by its `LeaseStore` key, that must be held, unexpired... */
  lease: string;
  /**
   * ...by this owner (the one its holder passed to `acquire`). A session lease is taken under an owner
   * unique to each attempt, so the guard names one attempt, not every lease of the process.
   */
  owner: string;
  /**
   * An idempotency claim that must still be pending under its owner: an append sent before the claim
   * was answered lands only if the call that made it holds the key. Unchecked when unset.
   */
  claim?: ClaimGuard;
  /**
   * Stored as the entry of `sessionKey`, in the same step, when the session has none (a turn's new
   * session); it must name the transcript appended to. Without it, a session with no entry refuses.
   */
  create?: SessionEntry;
}

/** `lines` with those numbered up to `through` replaced by `replacement`, numbered again from 1. */
export function compacted(
  lines: readonly TranscriptEntry[],
  through: number,
  replacement: readonly NewTranscriptEntry[],
): TranscriptEntry[] {
  const kept: NewTranscriptEntry[] = lines.filter((line) => line.seq > through)
    .map(({ seq: _, ...line }) => line);
  return numbered(undefined, [...replacement, ...kept]);
}

/** `entries` numbered to follow a transcript whose last line is `last`. */
export function numbered(
  last: TranscriptEntry | undefined,
  entries: readonly NewTranscriptEntry[],
): TranscriptEntry[] {
  const base = last?.seq ?? 0;
  return entries.map((entry, index) => ({ ...entry, seq: base + index + 1 }));
}

/** Sessions in process memory; gone on restart. */
export class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, SessionEntry>();

  /** The session with this full key, as a copy; `undefined` when there is none. */
  get(key: string): Promise<SessionEntry | undefined> {
    const entry = this.#entries.get(key);
    return Promise.resolve(entry && { ...entry });
  }

  /**
   * The session with this key as stored (no copy), read at once: what a write to another in-process store
   * checks in the same step as it writes. Callers must not change it.
   */
  peek(key: string): Readonly<SessionEntry> | undefined {
    return this.#entries.get(key);
  }

  /** Stores a copy of `entry`, replacing any session with the same key. */
  put(entry: SessionEntry): Promise<void> {
    this.#entries.set(entry.key, { ...entry });
    return Promise.resolve();
  }

  /** Copies of every session, in the order they were first stored. */
  list(): Promise<SessionEntry[]> {
    return Promise.resolve([...this.#entries.values()].map((e) => ({ ...e })));
  }

  /** Applies a finished run ({@link applyRun}) and returns a copy of the result. */
  recordRun(key: string, update: SessionRunUpdate): Promise<SessionEntry | undefined> {
    const next = applyRun(this.#entries.get(key), update);
    if (next) this.#entries.set(key, next);
    return Promise.resolve(next && { ...next });
  }

  /** Stores a copy of `entry` unless its key is taken; returns a copy of the stored session. */
  create(entry: SessionEntry): Promise<{ entry: SessionEntry; created: boolean }> {
    const existing = this.#entries.get(entry.key);
    if (!existing) this.#entries.set(entry.key, { ...entry });
    return Promise.resolve({ entry: { ...(existing ?? entry) }, created: !existing });
  }

  /** Applies `patch` ({@link applyPatch}) and returns a copy of the result. */
  patch(key: string, patch: SessionPatch, expectedSessionId?: string): Promise<SessionEntry | undefined> {
    const next = applyPatch(this.#entries.get(key), patch, expectedSessionId);
    if (next) this.#entries.set(key, next);
    return Promise.resolve(next && { ...next });
  }

  /** Removes the session and returns it, unless it is missing or has another `sessionId`. */
  delete(key: string, expectedSessionId?: string): Promise<SessionEntry | undefined> {
    const entry = this.#entries.get(key);
    if (!entry || (expectedSessionId !== undefined && entry.sessionId !== expectedSessionId)) {
      return Promise.resolve(undefined);
    }
    this.#entries.delete(key);
    return Promise.resolve(entry);
  }
}

/** Transcripts in process memory; gone on restart. */
export class MemoryTranscriptStore implements TranscriptStore {
  readonly #lines = new Map<string, TranscriptEntry[]>();

  /** Numbers the lines after the transcript's last one, keeps copies, and returns them numbered. */
  append(
    ref: TranscriptRef,
    entries: readonly NewTranscriptEntry[],
    options: AppendOptions = {},
  ): Promise<TranscriptEntry[]> {
    const key = `${ref.agentId}/${ref.sessionId}`;
    const lines = this.#lines.get(key) ?? [];
    const saved = savedInput(lines, options.inputOf, entries.length);
    if (saved) return Promise.resolve(saved);
    const added = numbered(lines.at(-1), entries);
    lines.push(...added.map((e) => ({ ...e })));
    this.#lines.set(key, lines);
    return Promise.resolve(added);
  }

  /** Copies of the transcript's lines in `seq` order. */
  read(ref: TranscriptRef): Promise<TranscriptEntry[]> {
    return Promise.resolve((this.#lines.get(`${ref.agentId}/${ref.sessionId}`) ?? []).map((e) => ({ ...e })));
  }

  /** Replaces the lines up to `through` ({@link compacted}) and returns copies of the result. */
  compact(
    ref: TranscriptRef,
    through: number,
    replacement: readonly NewTranscriptEntry[],
  ): Promise<TranscriptEntry[]> {
    const key = `${ref.agentId}/${ref.sessionId}`;
    const lines = compacted(this.#lines.get(key) ?? [], through, replacement);
    this.#lines.set(key, lines);
    return Promise.resolve(lines.map((e) => ({ ...e })));
  }

  /** Forgets the transcript: memory keeps no archive, so there is no place to name. */
  archive(ref: TranscriptRef): Promise<string | undefined> {
    this.#lines.delete(`${ref.agentId}/${ref.sessionId}`);
    return Promise.resolve(undefined);
  }
}
