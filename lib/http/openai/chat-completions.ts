/**
 * `POST /v1/chat/completions`: an OpenAI Chat Completions request runs as an agent turn; the reply
 * comes back whole or as SSE chunks ending in `data: [DONE]`.
 *
 * @module
 */
import { z } from "zod";
import type { RunOutcome } from "../../agents/runs.ts";
import type { ChatMessage, ChatResult, ToolCall, ToolSpec } from "../../providers/types.ts";
import { jsonResponse } from "../response.ts";
import { readJson, validate } from "./body.ts";
import { errorBody, HttpError } from "./errors.ts";
import {
  chatUsage,
  ContentSchema,
  contentText,
  contextMode,
  epochSeconds,
  splitSystem,
  ToolChoiceSchema,
  toToolChoice,
} from "./messages.ts";
import { openRunStream } from "./run-stream.ts";
import { sseResponse } from "./sse.ts";
import { clientAbort } from "./disconnect.ts";
import type { OpenAiRouteContext } from "./route-context.ts";

const penalty = z.number().min(-2).max(2);
const positiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const ChatCompletionRequest = z.looseObject({
  model: z.string().optional(),
  messages: z.array(z.looseObject({
    role: z.enum(["system", "developer", "user", "assistant", "tool"]),
    content: ContentSchema.optional(),
    name: z.string().optional(),
    tool_call_id: z.string().optional(),
    tool_calls: z.array(z.looseObject({
      id: z.string(),
      type: z.literal("function").optional(),
      function: z.looseObject({ name: z.string(), arguments: z.string().optional() }),
    })).optional(),
  })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  user: z.string().nullish(),
  tools: z.array(z.looseObject({
    type: z.literal("function"),
    function: z.looseObject({
      name: z.string().min(1),
      description: z.string().optional(),
      parameters: z.record(z.string(), z.unknown()).optional(),
    }),
  })).optional(),
  tool_choice: ToolChoiceSchema.optional(),
  max_completion_tokens: positiveInt.nullish(),
  max_tokens: positiveInt.nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  frequency_penalty: penalty.nullish(),
  presence_penalty: penalty.nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string().min(1)).max(4)]).nullish(),
});

type ChatCompletionBody = z.infer<typeof ChatCompletionRequest>;

function toMessages(body: ChatCompletionBody): ChatMessage[] {
  return body.messages.map((m) => {
    const message: ChatMessage = {
      role: m.role === "developer" ? "system" : m.role,
      content: contentText(m.content),
    };
    if (m.tool_calls?.length) {
      message.toolCalls = m.tool_calls.map((tc) => ({
        id: tc.id,
        name: tc.function.name,
        arguments: tc.function.arguments ?? "",
      }));
    }
    if (m.tool_call_id) message.toolCallId = m.tool_call_id;
    if (m.name) message.name = m.name;
    return message;
  });
}

function wireToolCalls(calls: ToolCall[]) {
  return calls.map((c) => ({
    id: c.id,
    type: "function",
    function: { name: c.name, arguments: c.arguments },
  }));
}

/** Pinned or required tool use must produce a client tool call, else the turn failed. */
function assertToolDemandMet(result: ChatResult, demanded: boolean): void {
  if (demanded && !result.toolCalls.length) {
    throw new HttpError(
      502,
      "tool_choice required a tool call, but the agent answered without one",
      "api_error",
    );
  }
}

/** Handles one chat-completions request from an authenticated caller. */
export async function handleChatCompletions(request: Request, ctx: OpenAiRouteContext): Promise<Response> {
  const body = validate(ChatCompletionRequest, await readJson(request, ctx.bodyTimeoutMs));
  const tools: ToolSpec[] = (body.tools ?? []).map((t) => ({
    name: t.function.name,
    description: t.function.description,
    parameters: t.function.parameters,
  }));
  const toolChoice = toToolChoice(body.tool_choice, tools);
  const stop = typeof body.stop === "string" ? [body.stop] : body.stop ?? undefined;
  const target = ctx.target(body.model, body.user ?? undefined);
  const { system, conversation } = splitSystem(toMessages(body));
  const params = {
    tools: tools.length ? tools : undefined,
    toolChoice,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    frequencyPenalty: body.frequency_penalty ?? undefined,
    presencePenalty: body.presence_penalty ?? undefined,
    seed: body.seed ?? undefined,
    stop,
  };
  const client = clientAbort(request);
  const input = {
    sessionKey: target.sessionKey,
    agentId: target.agentId,
    ephemeral: target.ephemeral,
    messages: conversation,
    context: contextMode(conversation),
    system,
    model: target.model,
    params,
    signal: client.signal,
    origin: { kind: "http" as const },
  };
  const id = `chatcmpl_${ctx.newId()}`;
  const created = epochSeconds(ctx.now());
  const model = body.model ?? "openclaw";
  const demanded = toolChoice === "required" || typeof toolChoice === "object";

  if (!body.stream) {
    const outcome = await ctx.runtime.startTurn({ ...input, stream: false }).done.finally(client.release);
    const result = succeeded(outcome);
    assertToolDemandMet(result, demanded);
    const message: Record<string, unknown> = { role: "assistant", content: result.text };
    if (result.toolCalls.length) message.tool_calls = wireToolCalls(result.toolCalls);
    return jsonResponse({
      id,
      object: "chat.completion",
      created,
      model,
      choices: [{ index: 0, message, finish_reason: result.finishReason }],
      usage: chatUsage(result.usage),
    });
  }

  const events = await openRunStream(ctx.runtime, input);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices, ...extra });
  const delta = (d: Record<string, unknown>, finish: string | null = null) =>
    chunk([{ index: 0, delta: d, finish_reason: finish }]);
  return sseResponse(async (write) => {
    write(delta({ role: "assistant" }));
    for await (const event of events) {
      if (event.type === "output") {
        const piece = event.event;
        if (piece.type === "text") write(delta({ content: piece.text }));
        if (piece.type === "tool_call") {
          const call: Record<string, unknown> = { index: piece.index };
          if (piece.id) Object.assign(call, { id: piece.id, type: "function" });
          const fn: Record<string, string> = {};
          if (piece.name) fn.name = piece.name;
          fn.arguments = piece.argumentsDelta ?? "";
          call.function = fn;
          write(delta({ tool_calls: [call] }));
        }
      } else if (event.type === "end") {
        try {
          const result = succeeded(event.outcome);
          assertToolDemandMet(result, demanded);
          write(delta({}, result.finishReason));
          if (body.stream_options?.include_usage) write(chunk([], { usage: chatUsage(result.usage) }));
        } catch (error) {
          write(JSON.stringify({ error: errorBody(error).error }));
        }
      }
    }
    write("[DONE]");
  }, client);
}

/** The reply of a successful run; otherwise the run's error, for the caller to map to a status. */
export function succeeded(outcome: RunOutcome): ChatResult {
  if (outcome.status === "ok" && outcome.result) return outcome.result;
  throw outcome.cause ?? new HttpError(502, outcome.error?.message ?? "agent run failed", "api_error");
}
