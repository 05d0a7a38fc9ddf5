/**
 * Durable sessions and transcripts as JSONL files, over a {@link StoreFiles} seam (node:fs for
 * `./stores/jsonl`, Deno's API in the runner). Every write is an append followed by an fsync, so a crash
 * loses at most the line being written; a torn last line is skipped on load.
 *
 * Layout under the state dir (as OpenClaw lays it out): `agents/<agentId>/sessions/<sessionId>.jsonl`
 * for transcripts, and `agents/sessions.jsonl` for session metadata (one line per update, last wins;
 * compacted on open).
 *
 * @module
 */
import {
  type AppendOptions,
  applyPatch,
  applyRun,
  compacted,
  type NewTranscriptEntry,
  numbered,
  savedInput,
  type SessionEntry,
  type SessionPatch,
  type SessionRunUpdate,
  type SessionStore,
  type TranscriptEntry,
  type TranscriptRef,
  type TranscriptStore,
} from "./sessions.ts";
import { type JsonDocs, jsonDocsOnFiles } from "./json-docs.ts";
import type { StoreFiles } from "./store-files.ts";

/** Appends lines to a file and fsyncs before resolving (transcripts are private: 0600 files, 0700 folders). */
function appendDurably(files: StoreFiles, path: string, lines: readonly unknown[]): Promise<void> {
  return files.writeSynced(path, lines.map((line) => JSON.stringify(line) + "\n").join(""), "append");
}

/** Parses a JSONL file; a missing file is empty, unparseable lines (a torn tail) are skipped. */
async function readLines<T>(files: StoreFiles, path: string): Promise<T[]> {
  const text = await files.readText(path) ?? "";
  const out: T[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // A line cut short by a crash: the turn in flight is what may be lost.
    }
  }
  return out;
}

/** Only ids we generate or validate reach the file system, but refuse path tricks regardless. */
function safeSegment(segment: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(segment) || segment.startsWith(".")) {
    throw new Error(`unsafe path segment '${segment}'`);
  }
  return segment;
}

/** How many transcripts stay parsed in memory, so a turn does not re-read its whole file. */
const CACHED_TRANSCRIPTS = 64;

/**
 * Transcripts as one JSONL file per session. The most recently used ones are also kept parsed in
 * memory (this process is the only writer: the gateway lock sees to that).
 */
export class JsonlTranscriptLog implements TranscriptStore {
  /** Parsed transcripts by path, least recently used first. */
  readonly #cache = new Map<string, TranscriptEntry[]>();
  /** Reads and appends of one file run one after another, so a read never caches a stale view. */
  readonly #queues = new Map<string, Promise<void>>();

  /** Transcripts under `stateDir`, through `files`; the last `cacheSize` read are kept in memory. */
  constructor(
    private readonly stateDir: string,
    private readonly files: StoreFiles,
    private readonly cacheSize: number = CACHED_TRANSCRIPTS,
  ) {}

  /** Appends lines to a transcript, numbered after its last one, durably (fsync) before resolving. */
  async append(
    ref: TranscriptRef,
    entries: readonly NewTranscriptEntry[],
    options: AppendOptions = {},
  ): Promise<TranscriptEntry[]> {
    const path = this.#path(ref);
    return await this.#serially(path, async () => {
      // The numbering continues from the file's last line, so the file is read once if not cached.
      const current = this.#cache.get(path) ?? await readLines<TranscriptEntry>(this.files, path);
      const saved = savedInput(current, options.inputOf, entries.length);
      if (saved) return saved;
      const added = numbered(current.at(-1), entries);
      // If the write fails no one knows what reached the file, so the next read goes to disk.
      this.#cache.delete(path);
      await appendDurably(this.files, path, added);
      this.#remember(path, [...current, ...added.map((e) => ({ ...e }))]);
      return added;
    });
  }

  /** Every line of a transcript, in order; a torn last line is skipped. */
  async read(ref: TranscriptRef): Promise<TranscriptEntry[]> {
    const path = this.#path(ref);
    return await this.#serially(path, async () => {
      const entries = this.#cache.get(path) ?? await readLines<TranscriptEntry>(this.files, path);
      this.#remember(path, entries);
      return entries.map((e) => ({ ...e }));
    });
  }

  /** Rewrites the transcript with the lines up to `through` replaced; the swap is a rename, so atomic. */
  async compact(
    ref: TranscriptRef,
    through: number,
    replacement: readonly NewTranscriptEntry[],
  ): Promise<TranscriptEntry[]> {
    const path = this.#path(ref);
    return await this.#serially(path, async () => {
      const current = this.#cache.get(path) ?? await readLines<TranscriptEntry>(this.files, path);
      const lines = compacted(current, through, replacement);
      this.#cache.delete(path);
      const temp = `${path}.compact`;
      // A temp file left by a crash mid-compaction holds nothing the transcript lacks.
      await this.files.remove(temp);
      await this.files.writeSynced(
        temp,
        lines.map((line) => JSON.stringify(line) + "\n").join(""),
        "create-new",
      );
      await this.files.rename(temp, path);
      this.#remember(path, lines);
      return lines.map((e) => ({ ...e }));
    });
  }

  /** Renames the file aside (`<sessionId>.jsonl.deleted.<time>`, as OpenClaw names archives). */
  async archive(ref: TranscriptRef): Promise<string | undefined> {
    const path = this.#path(ref);
    return await this.#serially(path, async () => {
      this.#cache.delete(path);
      if (await this.files.readText(path) === undefined) return undefined;
      const archived = `${path}.deleted.${new Date().toISOString().replaceAll(":", "-")}`;
      await this.files.rename(path, archived);
      return archived;
    });
  }

  #serially<T>(path: string, task: () => Promise<T>): Promise<T> {
    const run = (this.#queues.get(path) ?? Promise.resolve()).then(task);
    const tail = run.then(() => {}, () => {});
    this.#queues.set(path, tail);
    tail.then(() => {
      if (this.#queues.get(path) === tail) this.#queues.delete(path);
    });
    return run;
  }

  #remember(path: string, entries: TranscriptEntry[]): void {
    this.#cache.delete(path);
    this.#cache.set(path, entries);
    if (this.#cache.size > this.cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
  }

  #path(ref: TranscriptRef): string {
    return `${this.stateDir}/agents/${safeSegment(ref.agentId)}/sessions/${safeSegment(ref.sessionId)}.jsonl`;
  }
}

/** The log line that records a deleted session. */
interface Tombstone {
  key: string;
  deleted: true;
}

/** Session metadata as an append-only JSONL log, held in memory after the first load. */
export class JsonlSessionLog implements SessionStore {
  readonly #path: string;
  #entries: Promise<Map<string, SessionEntry>> | undefined;
  /** Writes go one after another so lines never interleave. */
  #tail: Promise<void> = Promise.resolve();

  /** Session metadata in `agents/sessions.jsonl` under `stateDir`, through `files`. */
  constructor(stateDir: string, private readonly files: StoreFiles) {
    this.#path = `${stateDir}/agents/sessions.jsonl`;
  }

  /** The session with this key, if any. */
  async get(key: string): Promise<SessionEntry | undefined> {
    const entry = (await this.#load()).get(key);
    return entry && { ...entry };
  }

  /** Creates or replaces a session, durably before resolving. */
  async put(entry: SessionEntry): Promise<void> {
    await this.#write(await this.#load(), entry);
  }

  /** Every session. */
  async list(): Promise<SessionEntry[]> {
    return [...(await this.#load()).values()].map((e) => ({ ...e }));
  }

  async recordRun(key: string, update: SessionRunUpdate): Promise<SessionEntry | undefined> {
    const entries = await this.#load();
    // Read and replaced with no await in between: the update is atomic within this process.
    const next = applyRun(entries.get(key), update);
    if (!next) return undefined;
    await this.#write(entries, next);
    return { ...next };
  }

  /** Stores `entry` unless its key is taken, durably before resolving. */
  async create(entry: SessionEntry): Promise<{ entry: SessionEntry; created: boolean }> {
    const entries = await this.#load();
    const existing = entries.get(entry.key);
    if (existing) return { entry: { ...existing }, created: false };
    await this.#write(entries, entry);
    return { entry: { ...entry }, created: true };
  }

  async patch(
    key: string,
    patch: SessionPatch,
    expectedSessionId?: string,
  ): Promise<SessionEntry | undefined> {
    const entries = await this.#load();
    const next = applyPatch(entries.get(key), patch, expectedSessionId);
    if (!next) return undefined;
    await this.#write(entries, next);
    return { ...next };
  }

  /** Removes the session; the log records it as a tombstone line (`{ key, deleted: true }`). */
  async delete(key: string, expectedSessionId?: string): Promise<SessionEntry | undefined> {
    const entries = await this.#load();
    const entry = entries.get(key);
    if (!entry || (expectedSessionId !== undefined && entry.sessionId !== expectedSessionId)) {
      return undefined;
    }
    entries.delete(key);
    await this.#append({ key, deleted: true });
    return entry;
  }

  /** Updates the map at once (callers read it with no await before), then queues the durable line. */
  async #write(entries: Map<string, SessionEntry>, entry: SessionEntry): Promise<void> {
    entries.set(entry.key, { ...entry });
    await this.#append(entry);
  }

  /** Appends one line after every write queued before it. */
  async #append(line: SessionEntry | Tombstone): Promise<void> {
    const write = this.#tail.then(() => appendDurably(this.files, this.#path, [line]));
    this.#tail = write.catch(() => {});
    await write;
  }

  #load(): Promise<Map<string, SessionEntry>> {
    return this.#entries ??= this.#read();
  }

  async #read(): Promise<Map<string, SessionEntry>> {
    const lines = await readLines<SessionEntry | Tombstone>(this.files, this.#path);
    const entries = new Map<string, SessionEntry>();
    for (const line of lines) {
      if (typeof line?.key !== "string") continue;
      // Keys are folded to lower case now (as the reference stores them); older mixed-case lines are
      // folded on load so their sessions stay reachable.
      const key = line.key.toLowerCase();
      if ("deleted" in line) entries.delete(key);
      else entries.set(key, key === line.key ? line : { ...line, key });
    }
    // Rewrite the log without superseded lines once they dominate it; rename keeps it atomic.
    if (lines.length > 2 * entries.size + 100) {
      const temp = `${this.#path}.compact`;
      await appendDurably(this.files, temp, [...entries.values()]);
      await this.files.rename(temp, this.#path);
    }
    return entries;
  }
}

/**
 * Durable sessions, transcripts and JSON documents (cron jobs, channel pairing) under `stateDir` through
 * `files`, for `createGateway({ stores })`.
 *
 * @example Over files kept in a Map: any storage with these four operations will do
 * ```ts
 * import { jsonlLogStores, type StoreFiles } from "@openclaw-ts/gateway/stores/jsonl";
 *
 * const disk = new Map<string, string>();
 * const files: StoreFiles = {
 *   readText: (path) => Promise.resolve(disk.get(path)),
 *   writeSynced(path, text, how) {
 *     if (how === "create-new" && disk.has(path)) return Promise.reject(new Error(`${path} exists`));
 *     disk.set(path, (how === "append" ? disk.get(path) ?? "" : "") + text);
 *     return Promise.resolve();
 *   },
 *   rename(from, to) {
 *     disk.set(to, disk.get(from)!);
 *     disk.delete(from);
 *     return Promise.resolve();
 *   },
 *   remove(path) {
 *     disk.delete(path);
 *     return Promise.resolve();
 *   },
 * };
 * const { transcripts } = jsonlLogStores("/state", files);
 * const transcript = { agentId: "main", sessionId: "s1" };
 * await transcripts.append(transcript, [{ id: "1", ts: Date.now(), role: "user", content: "hello" }]);
 * if (![...disk.keys()].some((path) => path.endsWith(".jsonl"))) throw new Error([...disk.keys()].join());
 * ```
 */
export function jsonlLogStores(
  stateDir: string,
  files: StoreFiles,
): { sessions: JsonlSessionLog; transcripts: JsonlTranscriptLog; docs: JsonDocs } {
  return {
    sessions: new JsonlSessionLog(stateDir, files),
    transcripts: new JsonlTranscriptLog(stateDir, files),
    docs: jsonDocsOnFiles(stateDir, files),
  };
}
