/**
 * The objects of one Responses API answer: the `response` envelope, its assistant message item and
 * function-call items, all under the ids chosen when the request came in.
 *
 * @module
 */
import type { ChatResult, Usage } from "../../providers/types.ts";
import { assertToolDemandMet } from "./run-result.ts";

/** The ids and facts every object of one response shares. */
export interface ResponseIdentity {
  /** `resp_<id>`. */
  id: string;
  /** `msg_<id>`: the assistant message item. */
  messageId: string;
  createdAt: number;
  model: string;
  /** Whether `tool_choice` demanded a tool call (then an answer without one fails). */
  toolDemanded: boolean;
}

/** Builds the objects of one response. */
export class ResponseObjects {
  constructor(readonly identity: ResponseIdentity) {}

  /** The `response` object with `status` and `output`. */
  envelope(status: string, output: unknown[], usage?: Usage) {
    const { id, createdAt, model } = this.identity;
    return { id, object: "response", created_at: createdAt, status, model, output, usage: usageBody(usage) };
  }

  /**
   * The assistant message item; empty content while in progress with no text yet. A finished item says
   * its `phase` as the reference does: text that comes with tool calls is `commentary`, else the
   * `final_answer`.
   */
  messageItem(text: string, status: string, toolCalls = 0) {
    return {
      type: "message",
      id: this.identity.messageId,
      role: "assistant",
      content: status === "completed" || text ? [{ type: "output_text", text, annotations: [] }] : [],
      ...(status === "completed" ? { phase: toolCalls ? "commentary" : "final_answer" } : {}),
      status,
    };
  }

  /** The output of a finished turn: the message (unless only tool calls came back), then the calls. */
  outputItems(result: ChatResult) {
    return [
      ...(result.text || !result.toolCalls.length
        ? [this.messageItem(result.text, "completed", result.toolCalls.length)]
        : []),
      ...result.toolCalls.map((call) => ({
        ...functionCallItem(call),
        arguments: call.arguments,
        status: "completed",
      })),
    ];
  }

  /** `result`, unless the request demanded a tool call and none came. */
  checked(result: ChatResult): ChatResult {
    assertToolDemandMet(result, this.identity.toolDemanded);
    return result;
  }
}

/** The fields a function-call item has from its start: `fc_<call id>`, the call id and the tool name. */
export function functionCallItem(call: ChatResult["toolCalls"][number]) {
  return { type: "function_call", id: `fc_${call.id}`, call_id: call.id, name: call.name };
}

function usageBody(usage: Usage | undefined) {
  return {
    input_tokens: usage?.inputTokens ?? 0,
    // No provider here reports prompt-cache reads or writes; the reference sends 0 for both then.
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: usage?.outputTokens ?? 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage?.totalTokens ?? 0,
  };
}
