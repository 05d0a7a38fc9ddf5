/**
 * What a finished agent run means for an OpenAI-compatible answer: its reply, or the error to answer
 * with (the run's own, or a refused tool demand).
 *
 * @module
 */
import type { RunOutcome } from "../../state/runs.ts";
import type { ChatResult } from "../../providers/types.ts";
import { HttpError } from "./errors.ts";

/** The reply of a successful run; otherwise the run's error, for the caller to map to a status. */
export function succeeded(outcome: RunOutcome): ChatResult {
  if (outcome.status === "ok" && outcome.result) return outcome.result;
  throw outcome.cause ?? new HttpError(502, outcome.error?.message ?? "agent run failed", "api_error");
}

/** Pinned or required tool use (`demanded`) must produce a client tool call, else the turn failed. */
export function assertToolDemandMet(result: ChatResult, demanded: boolean): void {
  if (demanded && !result.toolCalls.length) {
    throw new HttpError(
      502,
      "tool_choice required a tool call, but the agent answered without one",
      "api_error",
    );
  }
}
