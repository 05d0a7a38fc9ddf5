/**
 * `POST /v1/chat/completions`: an OpenAI Chat Completions request runs as an agent turn; the reply
 * comes back whole or as SSE chunks ending in `data: [DONE]`.
 *
 * @module
 */
import * as z from "zod";
import type { ChatMessage, ChatResult, ToolCall, ToolSpec } from "../../providers/types.ts";
import { jsonResponse } from "../response.ts";
import { readJson, validate } from "./body.ts";
import { type Completion, streamCompletionChunks } from "./chat-stream.ts";
import {
  chatUsage,
  ContentSchema,
  contentText,
  epochSeconds,
  ToolChoiceSchema,
  toToolChoice,
} from "./messages.ts";
import { openRunStream } from "./run-stream.ts";
import { assertToolDemandMet, succeeded } from "./run-result.ts";
import { sseResponse } from "./sse.ts";
import { type TurnAsk, turnInput } from "./turn-input.ts";
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

/** Handles one chat-completions request from an authenticated caller. */
export async function handleChatCompletions(request: Request, ctx: OpenAiRouteContext): Promise<Response> {
  const body = validate(ChatCompletionRequest, await readJson(request, ctx.bodyTimeoutMs));
  const tools = toolSpecs(body);
  const toolChoice = toToolChoice(body.tool_choice, tools);
  const target = ctx.target(body.model, body.user ?? undefined);
  const messages = toMessages(body);
  const client = clientAbort(request);
  const ask = { tools, toolChoice, sampling: sampling(body), ephemeral: target.ephemeral };
  const input = turnInput(target, messages, ask, client.signal);
  const completion: Completion = {
    id: `chatcmpl_${ctx.newId()}`,
    created: epochSeconds(ctx.now()),
    model: body.model ?? "openclaw",
    toolDemanded: toolChoice === "required" || typeof toolChoice === "object",
  };
  if (!body.stream) {
    const outcome = await ctx.runtime.startTurn({ ...input, stream: false }).done.finally(client.release);
    return jsonResponse(completionBody(completion, succeeded(outcome)));
  }
  const events = await openRunStream(ctx.runtime, input);
  const includeUsage = body.stream_options?.include_usage === true;
  return sseResponse((write) => streamCompletionChunks(completion, events, includeUsage, write), client);
}

/** The sampling fields of a chat-completions body, as the turn takes them. */
function sampling(body: ChatCompletionBody): TurnAsk["sampling"] {
  return {
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    frequencyPenalty: body.frequency_penalty ?? undefined,
    presencePenalty: body.presence_penalty ?? undefined,
    seed: body.seed ?? undefined,
    stop: typeof body.stop === "string" ? [body.stop] : body.stop ?? undefined,
  };
}

function toolSpecs(body: ChatCompletionBody): ToolSpec[] {
  return (body.tools ?? []).map((t) => ({
    name: t.function.name,
    description: t.function.description,
    parameters: t.function.parameters,
  }));
}

/** The `chat.completion` object of a finished turn. */
function completionBody(completion: Completion, result: ChatResult) {
  assertToolDemandMet(result, completion.toolDemanded);
  const message: Record<string, unknown> = { role: "assistant", content: result.text };
  if (result.toolCalls.length) message.tool_calls = wireToolCalls(result.toolCalls);
  return {
    id: completion.id,
    object: "chat.completion",
    created: completion.created,
    model: completion.model,
    choices: [{ index: 0, message, finish_reason: result.finishReason }],
    usage: chatUsage(result.usage),
  };
}
