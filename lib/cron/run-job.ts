/**
 * One run of a job: an agent turn through the agents runtime, in the session the job's target names, and
 * the history entry that records it. An `isolated` job gets a fresh transcript under `cron:<jobId>` for
 * every run, as the reference's isolated runs do; `session:<key>` and `current` jobs build on their
 * session's history; a `main` job's system event is a turn in the agent's main session.
 *
 * @module
 */
import type { AgentRuntime } from "../agents/runtime.ts";
import type { RunOutcome } from "../state/runs.ts";
import { canonicalSessionKey, mainSessionKey } from "../agents/session-keys.ts";
import { timeoutSignal } from "../timeout-signal.ts";
import type { CronJob, CronRunLogEntry } from "./job.ts";

/** Longest run summary kept in the history (the reply's text, cut). */
const SUMMARY_MAX_CHARS = 2_000;

/** The full key of the session `job` runs in, for agent `agentId`. */
export function jobSessionKey(job: CronJob, agentId: string): string {
  const target = job.sessionTarget;
  if (target === "main") return mainSessionKey(agentId);
  if (target === "isolated") return canonicalSessionKey(`cron:${job.id}`, agentId).key;
  const key = target === "current" ? job.sessionKey ?? "" : target.slice("session:".length);
  return canonicalSessionKey(key, agentId).key;
}

/** What to tell the agent: the job's message, or its system event as hooks' wake events read. */
function turnMessage(job: CronJob): string {
  return job.payload.kind === "agentTurn" ? job.payload.message : `System event: ${job.payload.text}`;
}

/**
 * Runs `job` once and answers its history entry; never throws (a turn that cannot start is an `error`
 * run). `runId` names the run, so its `agent` events and `agent.wait` match the history.
 */
export async function runJobTurn(
  runtime: AgentRuntime,
  job: CronJob,
  runId: string,
  now: () => number,
): Promise<CronRunLogEntry> {
  // The run is "at" its claimed slot, whatever delay there was before the turn could start.
  const startedAt = job.state.runningAtMs ?? now();
  const base: EntryBase = {
    jobId: job.id,
    action: "finished",
    runId,
    runAtMs: startedAt,
    deliveryStatus: "not-requested",
  };
  const seconds = job.payload.kind === "agentTurn" ? job.payload.timeoutSeconds : undefined;
  const timeout = seconds ? timeoutSignal(seconds * 1000) : undefined;
  try {
    const outcome = await startJobTurn(runtime, job, runId, timeout?.signal);
    const timedOut = timeout?.signal.aborted === true;
    return finishedEntry(base, outcome, timedOut ? `cron: job timed out after ${seconds}s` : undefined);
  } catch (error) {
    const endedAt = now();
    const message = error instanceof Error ? error.message : String(error);
    return {
      ...base,
      ts: endedAt,
      status: "error",
      error: message,
      durationMs: Math.max(0, endedAt - startedAt),
    };
  } finally {
    timeout?.clear();
  }
}

/** The fields every history entry of a run starts with. */
type EntryBase = Pick<CronRunLogEntry, "jobId" | "action" | "runId" | "runAtMs" | "deliveryStatus">;

/** Starts the job's turn in its session (a fresh one for an `isolated` job) and waits for it to end. */
async function startJobTurn(
  runtime: AgentRuntime,
  job: CronJob,
  runId: string,
  signal: AbortSignal | undefined,
): Promise<RunOutcome> {
  const agentId = job.agentId ?? runtime.agents().defaultAgentId;
  const sessionKey = jobSessionKey(job, agentId);
  if (job.sessionTarget === "isolated" && await runtime.session(sessionKey)) {
    await runtime.resetSession(sessionKey, agentId);
  }
  const handle = runtime.startTurn({
    sessionKey,
    agentId,
    messages: [{ role: "user", content: turnMessage(job) }],
    model: job.payload.kind === "agentTurn" ? job.payload.model : undefined,
    signal,
    origin: { kind: "agent" },
    queueOwner: `cron:${job.id}`,
    runId,
  });
  return await handle.done;
}

/** The history entry of a turn that ended; `timeoutError` is the error when the job's own timeout ended it. */
function finishedEntry(
  base: EntryBase,
  outcome: RunOutcome,
  timeoutError: string | undefined,
): CronRunLogEntry {
  const usage = outcome.result?.usage;
  const [provider, ...model] = (outcome.model ?? "").split("/");
  const text = outcome.result?.text.trim() ?? "";
  return {
    ...base,
    ts: outcome.endedAt,
    status: outcome.status === "ok" ? "ok" : "error",
    ...(outcome.status !== "ok" ? { error: timeoutError ?? outcome.error?.message ?? outcome.status } : {}),
    ...(text ? { summary: text.slice(0, SUMMARY_MAX_CHARS) } : {}),
    sessionKey: outcome.sessionKey,
    ...(outcome.sessionId ? { sessionId: outcome.sessionId } : {}),
    durationMs: Math.max(0, outcome.endedAt - outcome.startedAt),
    ...(outcome.model ? { provider, model: model.join("/") } : {}),
    ...(usage
      ? {
        usage: {
          input_tokens: usage.inputTokens,
          output_tokens: usage.outputTokens,
          total_tokens: usage.totalTokens,
        },
      }
      : {}),
  };
}
