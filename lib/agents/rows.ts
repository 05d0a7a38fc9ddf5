/**
 * The wire shapes of sessions and transcript lines as `sessions.*` and `chat.history` return them.
 *
 * @module
 */
import type { SessionEntry, TranscriptEntry } from "../state/sessions.ts";
import { mainSessionKey } from "./session-keys.ts";

/** A session as `sessions.list` and `sessions.get` show it (a subset of the protocol's SessionRow). */
export interface SessionRow {
  key: string;
  kind: "direct";
  sessionId: string;
  agentId: string;
  isMain: boolean;
  createdAt: number;
  updatedAt: number;
  status?: "running" | "done" | "failed" | "killed" | "timeout";
  lastRunId?: string;
  model?: string;
  modelProvider?: string;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  lastMessagePreview?: string;
  hasActiveRun: boolean;
  activeRunIds?: string[];
  label?: string;
  displayName?: string;
  icon?: string;
  color?: string;
  category?: string;
  archived: boolean;
  archivedAt?: number;
  pinned: boolean;
  pinnedAt?: number;
  unread: boolean;
  markedUnreadAt?: number;
  lastReadAt?: number;
  lastActivityAt?: number;
  modelOverrideSource: "user" | null;
  createdVia?: "operator";
}

/** A transcript line as `chat.history` returns it. */
export interface HistoryMessage {
  role: TranscriptEntry["role"];
  /** A user line's text as it was sent (a string, as the reference sends it); other lines as parts. */
  content: string | { type: "text"; text: string }[];
  timestamp: number;
  toolCalls?: TranscriptEntry["toolCalls"];
  toolCallId?: string;
  /** On assistant lines: the provider and model that wrote it, its usage, and why it stopped. */
  provider?: string;
  model?: string;
  usage?: { input: number; output: number; totalTokens: number };
  stopReason?: string;
  /** On user lines: the id of the run they started, which WS clients chose as their `idempotencyKey`. */
  idempotencyKey?: string;
  __openclaw: { id: string; seq: number };
}

/** Splits `provider/model` the way the protocol reports it. */
export function splitModelRef(ref: string): { modelProvider: string; model: string } {
  const slash = ref.indexOf("/");
  return slash > 0
    ? { modelProvider: ref.slice(0, slash), model: ref.slice(slash + 1) }
    : { modelProvider: "", model: ref };
}

/** The row of a session; `running` when it has a run in flight (`activeRunIds`, when the caller knows them). */
export function sessionRow(
  entry: SessionEntry,
  running: boolean,
  activeRunIds?: readonly string[],
): SessionRow {
  const row: SessionRow = {
    key: entry.key,
    kind: "direct",
    sessionId: entry.sessionId,
    agentId: entry.agentId,
    isMain: entry.key === mainSessionKey(entry.agentId),
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
    inputTokens: entry.inputTokens,
    outputTokens: entry.outputTokens,
    totalTokens: entry.inputTokens + entry.outputTokens,
    hasActiveRun: running,
    // The reference's clients read these flags as booleans on every row, set or not.
    archived: entry.archivedAt !== undefined,
    pinned: entry.pinnedAt !== undefined,
    unread: isUnread(entry),
    modelOverrideSource: entry.modelOverride ? "user" : null,
  };
  const status = running ? "running" : entry.lastRunState;
  if (status) row.status = status;
  if (activeRunIds) row.activeRunIds = [...activeRunIds];
  if (entry.lastRunId) row.lastRunId = entry.lastRunId;
  // The model the next turn runs on: the session's own choice, else the one its last run used.
  const model = entry.modelOverride ?? entry.model;
  if (model) Object.assign(row, splitModelRef(model));
  if (entry.lastMessagePreview) row.lastMessagePreview = entry.lastMessagePreview;
  const name = entry.label ?? entry.displayName;
  if (name) row.displayName = name;
  for (const field of ORGANISATION_FIELDS) {
    if (entry[field] !== undefined) Object.assign(row, { [field]: entry[field] });
  }
  return row;
}

/** Operator-set and activity fields a row shows as stored. */
const ORGANISATION_FIELDS = [
  "label",
  "icon",
  "color",
  "category",
  "archivedAt",
  "pinnedAt",
  "markedUnreadAt",
  "lastReadAt",
  "lastActivityAt",
  "createdVia",
] as const;

/** Marked unread, or active since last read (since it was opened, if never read), as the reference's UI decides. */
function isUnread(entry: SessionEntry): boolean {
  const readAt = entry.lastReadAt ?? entry.createdAt;
  return entry.markedUnreadAt !== undefined || (entry.lastActivityAt ?? 0) > readAt;
}

/** A transcript line on the wire. */
export function historyMessage(entry: TranscriptEntry): HistoryMessage {
  const message: HistoryMessage = {
    role: entry.role,
    content: entry.role === "user" ? entry.content : [{ type: "text", text: entry.content }],
    timestamp: entry.ts,
    __openclaw: { id: entry.id, seq: entry.seq },
  };
  if (entry.toolCalls?.length) message.toolCalls = entry.toolCalls;
  if (entry.toolCallId) message.toolCallId = entry.toolCallId;
  if (entry.model) {
    const { modelProvider, model } = splitModelRef(entry.model);
    message.provider = modelProvider;
    message.model = model;
  }
  if (entry.usage) {
    const { inputTokens, outputTokens, totalTokens } = entry.usage;
    message.usage = { input: inputTokens, output: outputTokens, totalTokens };
  }
  if (entry.stopReason) message.stopReason = entry.stopReason;
  // Clients match the user line they sent to their pending send by this key (the reference's field).
  if (entry.role === "user" && entry.runId) message.idempotencyKey = entry.runId;
  return message;
}
