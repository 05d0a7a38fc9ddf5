/**
 * Folds a stream of reply pieces into a whole reply: the non-streaming form of any streaming provider,
 * and the transcript entry of a streamed run.
 *
 * @module
 */
import type { ChatResult, ChatStreamEvent, FinishReason, ToolCall, Usage } from "./types.ts";

/** Collects text, tool-call fragments, finish reason and usage as they arrive. */
export class ReplyAccumulator {
  #text = "";
  #calls: ToolCall[] = [];
  #finish: FinishReason | undefined;
  #usage: Usage | undefined;

  add(event: ChatStreamEvent): void {
    if (event.type === "text") {
      this.#text += event.text;
    } else if (event.type === "tool_call") {
      const call = this.#calls[event.index] ??= { id: "", name: "", arguments: "" };
      if (event.id) call.id = event.id;
      if (event.name) call.name = event.name;
      if (event.argumentsDelta) call.arguments += event.argumentsDelta;
    } else {
      this.#finish = event.finishReason;
      if (event.usage) this.#usage = event.usage;
    }
  }

  get text(): string {
    return this.#text;
  }

  result(): ChatResult {
    const toolCalls = this.#calls.filter(Boolean);
    const result: ChatResult = {
      text: this.#text,
      toolCalls,
      finishReason: this.#finish ?? (toolCalls.length ? "tool_calls" : "stop"),
    };
    if (this.#usage) result.usage = this.#usage;
    return result;
  }
}

/** Drains a stream into a whole reply. */
export async function collectReply(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatResult> {
  const acc = new ReplyAccumulator();
  for await (const event of stream) acc.add(event);
  return acc.result();
}
