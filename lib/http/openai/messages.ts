/**
 * OpenAI request shapes shared by chat completions and responses: text content parts, tools and
 * `tool_choice`, and their mapping onto provider-neutral messages.
 *
 * @module
 */
import * as z from "zod";
import type { ChatMessage, ToolChoice, ToolSpec } from "../../providers/types.ts";
import { HttpError } from "./errors.ts";

/** Message content: a string, or parts of which only text is carried to the model. */
export const ContentSchema = z.union([
  z.string(),
  z.null(),
  z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
]);

/** Text of a content value; non-text parts (images, files) are not passed on. */
export function contentText(content: z.infer<typeof ContentSchema> | undefined): string {
  if (typeof content === "string") return content;
  if (!content) return "";
  return content.filter((p) => typeof p.text === "string").map((p) => p.text).join("\n");
}

/** `tool_choice` as both APIs write it (chat nests the name under `function`). */
export const ToolChoiceSchema = z.union([
  z.enum(["auto", "none", "required"]),
  z.looseObject({
    type: z.literal("function"),
    name: z.string().optional(),
    function: z.looseObject({ name: z.string() }).optional(),
  }),
]);

/** Checks a pinned choice names an offered tool, as the reference does. */
export function toToolChoice(
  choice: z.infer<typeof ToolChoiceSchema> | undefined,
  tools: ToolSpec[],
): ToolChoice | undefined {
  if (choice === undefined || typeof choice === "string") return choice;
  const name = choice.function?.name ?? choice.name;
  if (!name || !tools.some((t) => t.name === name)) throw new HttpError(400, "unknown tool_choice function");
  return { name };
}

/** Splits system/developer messages (the turn's extra system prompt) from the conversation. */
export function splitSystem(messages: ChatMessage[]): { system?: string; conversation: ChatMessage[] } {
  const system = messages.filter((m) => m.role === "system").map((m) => m.content).join("\n\n");
  const conversation = messages.filter((m) => m.role !== "system");
  return system ? { system, conversation } : { conversation };
}

/**
 * A conversation that already carries assistant turns is client-managed (OpenAI clients resend the
 * whole history): the model sees it as sent. Otherwise the session's transcript comes first.
 */
export function contextMode(conversation: ChatMessage[]): "session" | "request" {
  return conversation.some((m) => m.role === "assistant" || m.role === "tool") ? "request" : "session";
}

/** Token usage in the chat-completions shape. */
export function chatUsage(
  usage: { inputTokens: number; outputTokens: number; totalTokens: number } | undefined,
) {
  return {
    prompt_tokens: usage?.inputTokens ?? 0,
    completion_tokens: usage?.outputTokens ?? 0,
    total_tokens: usage?.totalTokens ?? 0,
  };
}

/** Seconds since the epoch, as OpenAI's `created` fields count. */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
