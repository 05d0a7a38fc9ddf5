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

/** The row of a session; `running` when it has a run in flight. */
export function sessionRow(entry: SessionEntry, running: boolean): SessionRow {
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
  };
  const status = running ? "running" : entry.lastRunState;
  if (status) row.status = status;
  if (entry.lastRunId) row.lastRunId = entry.lastRunId;
  if (entry.model) Object.assign(row, splitModelRef(entry.model));
  if (entry.lastMessagePreview) row.lastMessagePreview = entry.lastMessagePreview;
  return row;
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
