/**
 * A streamed Chat Completions answer: `chat.completion.chunk` events (the role, text and tool-call
 * deltas, the finish reason, usage when asked), then `[DONE]`.
 *
 * @module
 */
import type { RunEvent } from "../../agents/runtime.ts";
import { errorBody } from "./errors.ts";
import { chatUsage } from "./messages.ts";
import { assertToolDemandMet, succeeded } from "./run-result.ts";
import type { SseWrite } from "./sse.ts";

/** What every chunk of one completion repeats, and whether a tool call was demanded. */
export interface Completion {
  /** `chatcmpl_<id>`. */
  id: string;
  created: number;
  model: string;
  toolDemanded: boolean;
}

type ToolCallPiece = Extract<Extract<RunEvent, { type: "output" }>["event"], { type: "tool_call" }>;

/** Writes the chunks of one run's `events`. */
export async function streamCompletionChunks(
  completion: Completion,
  events: AsyncIterable<RunEvent>,
  includeUsage: boolean,
  write: SseWrite,
): Promise<void> {
  const { id, created, model } = completion;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices, ...extra });
  const delta = (d: Record<string, unknown>, finish: string | null = null) =>
    chunk([{ index: 0, delta: d, finish_reason: finish }]);
  write(delta({ role: "assistant" }));
  for await (const event of events) {
    if (event.type === "output") {
      const piece = event.event;
      if (piece.type === "text") write(delta({ content: piece.text }));
      if (piece.type === "tool_call") write(delta({ tool_calls: [toolCallDelta(piece)] }));
    } else if (event.type === "end") {
      try {
        const result = succeeded(event.outcome);
        assertToolDemandMet(result, completion.toolDemanded);
        write(delta({}, result.finishReason));
        if (includeUsage) write(chunk([], { usage: chatUsage(result.usage) }));
      } catch (error) {
        write(JSON.stringify({ error: errorBody(error).error }));
      }
    }
  }
  write("[DONE]");
}

/** One tool-call delta: the id and type only on its first piece, the name only when sent. */
function toolCallDelta(piece: ToolCallPiece): Record<string, unknown> {
  const call: Record<string, unknown> = { index: piece.index };
  if (piece.id) Object.assign(call, { id: piece.id, type: "function" });
  const fn: Record<string, string> = {};
  if (piece.name) fn.name = piece.name;
  fn.arguments = piece.argumentsDelta ?? "";
  call.function = fn;
  return call;
}
