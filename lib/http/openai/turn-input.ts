/**
 * The agent turn an OpenAI-compatible request asks for. Chat Completions and Responses map their bodies
 * to the same `TurnInput`; only their sampling fields, leading instructions and whether the session is
 * kept differ.
 *
 * @module
 */
import type { TurnInput, TurnParams } from "../../agents/runtime.ts";
import type { ChatMessage, ToolSpec } from "../../providers/types.ts";
import { contextMode, splitSystem, type toToolChoice } from "./messages.ts";
import type { HttpTarget } from "./target.ts";

/** What one endpoint's body adds to the shared mapping. */
export interface TurnAsk {
  /** The tools the caller offers (none: the model is offered none). */
  tools: ToolSpec[];
  /** How the model must use them. */
  toolChoice: ReturnType<typeof toToolChoice>;
  /** Sampling fields as the endpoint names them, unset ones undefined. */
  sampling: Omit<TurnParams, "tools" | "toolChoice">;
  /** Put before the messages' own system text (the Responses API's `instructions`). */
  instructions?: string | null;
  /** Whether the session is neither listed nor kept after the turn. */
  ephemeral: boolean;
}

/** The turn `messages` ask for, in the session `target` names; aborting `signal` cancels it. */
export function turnInput(
  target: HttpTarget,
  messages: ChatMessage[],
  ask: TurnAsk,
  signal: AbortSignal,
): TurnInput {
  const { system, conversation } = splitSystem(messages);
  return {
    sessionKey: target.sessionKey,
    agentId: target.agentId,
    ephemeral: ask.ephemeral,
    messages: conversation,
    context: contextMode(conversation),
    system: [ask.instructions, system].filter(Boolean).join("\n\n") || undefined,
    model: target.model,
    params: { tools: ask.tools.length ? ask.tools : undefined, toolChoice: ask.toolChoice, ...ask.sampling },
    signal,
    origin: { kind: "http" },
  };
}
