/**
 * A streamed Responses API answer: the `response.*` SSE event sequence the reference sends, from
 * `response.created` to `response.completed` (or `response.failed`), then `[DONE]`.
 *
 * @module
 */
import type { RunEvent } from "../../agents/runtime.ts";
import type { ChatResult } from "../../providers/types.ts";
import { succeeded } from "./run-result.ts";
import { errorBody } from "./errors.ts";
import { functionCallItem, type ResponseObjects } from "./responses-objects.ts";
import type { SseWrite } from "./sse.ts";

type Emit = (type: string, payload: Record<string, unknown>) => void;

/** Writes the whole event sequence of one run's `events`. */
export async function streamResponseEvents(
  objects: ResponseObjects,
  events: AsyncIterable<RunEvent>,
  write: SseWrite,
): Promise<void> {
  const emit: Emit = (type, payload) => write(JSON.stringify({ type, ...payload }), type);
  const part = { item_id: objects.identity.messageId, output_index: 0, content_index: 0 };
  emit("response.created", { response: objects.envelope("in_progress", []) });
  emit("response.in_progress", { response: objects.envelope("in_progress", []) });
  emit("response.output_item.added", { output_index: 0, item: objects.messageItem("", "in_progress") });
  emit("response.content_part.added", { ...part, part: { type: "output_text", text: "", annotations: [] } });
  for await (const event of events) {
    if (event.type === "output" && event.event.type === "text") {
      emit("response.output_text.delta", { ...part, delta: event.event.text });
    } else if (event.type === "end") {
      try {
        emitCompleted(emit, objects, part, objects.checked(succeeded(event.outcome)));
      } catch (error) {
        const { error: body } = errorBody(error);
        emit("response.failed", {
          response: { ...objects.envelope("failed", []), error: { code: body.type, message: body.message } },
        });
      }
    }
  }
  write("[DONE]");
}

/** The text's closing events, each tool call's events, then `response.completed`. */
function emitCompleted(
  emit: Emit,
  objects: ResponseObjects,
  part: Record<string, unknown>,
  result: ChatResult,
) {
  emit("response.output_text.done", { ...part, text: result.text });
  emit("response.content_part.done", {
    ...part,
    part: { type: "output_text", text: result.text, annotations: [] },
  });
  emit("response.output_item.done", {
    output_index: 0,
    item: objects.messageItem(result.text, "completed", result.toolCalls.length),
  });
  result.toolCalls.forEach((call, i) => emitToolCall(emit, call, i + 1));
  const output = [
    objects.messageItem(result.text, "completed", result.toolCalls.length),
    ...objects.outputItems(result).filter((o) => o.type !== "message"),
  ];
  emit("response.completed", { response: objects.envelope("completed", output, result.usage) });
}

/** One tool call as a function-call item that is added, gets its arguments at once, and is done. */
function emitToolCall(emit: Emit, call: ChatResult["toolCalls"][number], outputIndex: number) {
  const item = functionCallItem(call);
  emit("response.output_item.added", {
    output_index: outputIndex,
    item: { ...item, arguments: "", status: "in_progress" },
  });
  emit("response.function_call_arguments.delta", {
    item_id: item.id,
    output_index: outputIndex,
    delta: call.arguments,
  });
  emit("response.function_call_arguments.done", {
    item_id: item.id,
    output_index: outputIndex,
    arguments: call.arguments,
  });
  emit("response.output_item.done", {
    output_index: outputIndex,
    item: { ...item, arguments: call.arguments, status: "completed" },
  });
}
