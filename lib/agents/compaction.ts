/**
 * `sessions.compact`: shortens a session's transcript so later turns send the model less. With
 * `maxLines` it keeps the newest lines and drops the rest, as the reference trims; without, it asks the
 * session's model to summarise everything before the last {@link COMPACT_KEEP_TURNS} user turns and puts
 * that summary, as one system line, in their place. Either way the store swaps the lines in one step, so
 * a line a turn appends meanwhile is kept.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import { type AnyMethod, defineMethod } from "../methods/descriptor.ts";
import type { ChatMessage } from "../providers/types.ts";
import type {
  NewTranscriptEntry,
  SessionEntry,
  TranscriptEntry,
  TranscriptStore,
} from "../state/sessions.ts";
import type { GatewayContext } from "../types.ts";
import { publishSessionsChanged } from "./run-events.ts";
import type { AgentRuntime } from "./runtime.ts";
import { publishSessionOperation } from "./session-events.ts";
import { CompactParams } from "./session-lifecycle-params.ts";
import { targetSession } from "./session-target.ts";

/** How many of the newest user turns (with what followed them) a summary keeps word for word. */
export const COMPACT_KEEP_TURNS = 2;
/** Fewer lines than this before the kept turns are not worth a model call. */
const MIN_SUMMARISED_LINES = 2;

/** The reference's answer when there is too little to summarise. */
export const NOTHING_TO_COMPACT = "Nothing to compact (session too small)";

const SUMMARY_INSTRUCTIONS = [
  "You compress a conversation so it can continue with less context.",
  "Write concise notes of everything a continuation needs: the user's goals and requests, facts,",
  "names, decisions, results of tool calls, and open questions. No preamble.",
].join(" ");

/** What `sessions.compact` answers (`result` only when a summary was written). */
export interface CompactOutcome {
  ok: boolean;
  compacted: boolean;
  reason?: string;
  kept?: number;
  result?: { summary: string; firstKeptEntryId: string };
}

/** How long one compaction may hold its session's lock (a summary waits on the model). */
const COMPACTION_LOCK_MS = 10 * 60_000;

/** `sessions.compact` (admin, as the reference has it). */
export function compactMethod(context: GatewayContext, runtime: AgentRuntime): AnyMethod {
  return defineMethod({
    name: "sessions.compact",
    scope: "operator.admin",
    params: CompactParams,
    handler: async (call) => {
      const { params } = call;
      const target = targetSession(runtime, params.key, params.agentId);
      const answer = (outcome: CompactOutcome) => ({ key: target.key, ...outcome });
      const entry = await context.stores.sessions.get(target.key);
      if (!entry) return answer({ ok: true, compacted: false, reason: "no sessionId" });
      const lines = await runtime.transcript(entry);
      if (!lines.length) return answer({ ok: true, compacted: false, reason: "no transcript" });
      if (await runtime.hasActiveRun(target.key)) {
        throw new GatewayError(
          "INVALID_REQUEST",
          `Session ${target.key} has an active run; retry after it finishes.`,
        );
      }
      if (params.maxLines === undefined && keptFrom(lines) < MIN_SUMMARISED_LINES) {
        return answer({ ok: false, compacted: false, reason: NOTHING_TO_COMPACT });
      }
      // One compaction of a session at a time, on every replica: each cuts at a line number it read, and
      // a second one cutting after the first renumbered the lines would drop what the first kept.
      const lockKey = `compact:${target.key}`;
      const lock = await context.stores.leases.acquire(lockKey, context.replicaId, COMPACTION_LOCK_MS);
      if (!lock) {
        throw new GatewayError(
          "UNAVAILABLE",
          `Session ${target.key} is being compacted; retry after it finishes.`,
          {
            retryable: true,
            retryAfterMs: 1_000,
          },
        );
      }
      let outcome: CompactOutcome;
      try {
        // Read again under the lock: the lines read above may predate a compaction that just ended.
        const current = await runtime.transcript(entry);
        outcome = params.maxLines !== undefined
          ? await trimTranscript(context.stores.transcripts, entry, current, params.maxLines)
          : await summariseReporting(context, runtime, entry, current, call.signal);
      } finally {
        await context.stores.leases.release(lockKey, lock);
      }
      if (outcome.compacted) {
        publishSessionsChanged(context.bus, target.key, "compact", context.now(), {
          agentId: entry.agentId,
          compacted: true,
        });
      }
      return answer(outcome);
    },
  });
}

/** {@link summariseTranscript} between the `session.operation` start and end events. */
async function summariseReporting(
  context: GatewayContext,
  runtime: AgentRuntime,
  entry: SessionEntry,
  lines: readonly TranscriptEntry[],
  signal: AbortSignal,
): Promise<CompactOutcome> {
  const operation = { operationId: crypto.randomUUID(), sessionKey: entry.key, agentId: entry.agentId };
  const end = (completed: boolean, reason?: string) =>
    publishSessionOperation(context.bus, {
      ...operation,
      phase: "end",
      ts: context.now(),
      completed,
      ...(reason ? { reason } : {}),
    });
  publishSessionOperation(context.bus, { ...operation, phase: "start", ts: context.now() });
  try {
    const outcome = await summariseTranscript(runtime, context.stores.transcripts, entry, lines, {
      newId: () => crypto.randomUUID(),
      now: () => context.now(),
      signal,
    });
    end(outcome.compacted, outcome.reason);
    return outcome;
  } catch (error) {
    end(false, error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/** Keeps the newest `maxLines` lines of the session's transcript. */
export async function trimTranscript(
  transcripts: TranscriptStore,
  entry: SessionEntry,
  lines: readonly TranscriptEntry[],
  maxLines: number,
): Promise<CompactOutcome> {
  if (lines.length <= maxLines) return { ok: true, compacted: false, kept: lines.length };
  const through = lines[lines.length - maxLines - 1].seq;
  const now = await transcripts.compact(refOf(entry), through, []);
  return { ok: true, compacted: true, kept: now.length };
}

/**
 * Summarises the older part of the transcript with the session's model (its override, else its
 * agent's) and replaces it with the summary. `newId` and `now` name and date the summary line.
 */
export async function summariseTranscript(
  runtime: AgentRuntime,
  transcripts: TranscriptStore,
  entry: SessionEntry,
  lines: readonly TranscriptEntry[],
  ids: { newId: () => string; now: () => number; signal: AbortSignal },
): Promise<CompactOutcome> {
  const cut = keptFrom(lines);
  if (cut < MIN_SUMMARISED_LINES) return { ok: false, compacted: false, reason: NOTHING_TO_COMPACT };
  const older = lines.slice(0, cut);
  const agent = runtime.agents().get(entry.agentId);
  const { provider, model } = runtime.providers().resolve(entry.modelOverride ?? agent.model);
  const messages: ChatMessage[] = [
    { role: "system", content: SUMMARY_INSTRUCTIONS },
    { role: "user", content: older.map(render).join("\n\n") },
  ];
  const reply = await provider.completeChat({ model, messages }, ids.signal);
  const summary = reply.text.trim();
  if (!summary) {
    throw new GatewayError("UNAVAILABLE", `the model returned an empty summary for session ${entry.key}`);
  }
  const line: NewTranscriptEntry = {
    id: ids.newId(),
    ts: ids.now(),
    role: "system",
    content: `Summary of the earlier conversation:\n${summary}`,
  };
  await transcripts.compact(refOf(entry), older.at(-1)!.seq, [line]);
  return { ok: true, compacted: true, result: { summary, firstKeptEntryId: lines[cut].id } };
}

/** The index of the first line kept word for word: the start of the last kept user turns. */
function keptFrom(lines: readonly TranscriptEntry[]): number {
  let turns = 0;
  for (let index = lines.length - 1; index >= 0; index--) {
    if (lines[index].role === "user" && ++turns === COMPACT_KEEP_TURNS) return index;
  }
  return 0;
}

function render(line: TranscriptEntry): string {
  const who = line.role === "tool" ? "Tool result" : line.role[0].toUpperCase() + line.role.slice(1);
  const calls = line.toolCalls?.map((call) => `\n(called ${call.name} with ${call.arguments})`).join("") ??
    "";
  return `${who}: ${line.content}${calls}`;
}

function refOf(entry: SessionEntry): { agentId: string; sessionId: string } {
  return { agentId: entry.agentId, sessionId: entry.sessionId };
}
