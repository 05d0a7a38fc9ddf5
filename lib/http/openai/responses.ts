/**
 * `POST /v1/responses` (OpenResponses): the Responses API over an agent turn, whole or as the
 * `response.*` SSE event sequence the reference sends. `previous_response_id` continues the session
 * the earlier response ran in.
 *
 * @module
 */
import { z } from "zod";
import type { ChatMessage, ChatResult, ToolSpec, Usage } from "../../providers/types.ts";
import { jsonResponse } from "../security-headers.ts";
import { readJson, validate } from "./body.ts";
import { errorBody, HttpError } from "./errors.ts";
import { succeeded } from "./chat-completions.ts";
import {
  ContentSchema,
  contentText,
  contextMode,
  epochSeconds,
  splitSystem,
  ToolChoiceSchema,
  toToolChoice,
} from "./messages.ts";
import type { OpenAiRouteContext } from "./route-context.ts";
import { openRunStream } from "./run-stream.ts";
import { sseResponse } from "./sse.ts";
import { clientAbort } from "./disconnect.ts";
import { RESPONSE_SESSION_TTL_MS, type ResponseSessionStore } from "./response-sessions.ts";

const InputItem = z.looseObject({
  type: z.string().optional(),
  role: z.enum(["system", "developer", "user", "assistant"]).optional(),
  content: ContentSchema.optional(),
  call_id: z.string().optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
  output: z.string().optional(),
});

const ResponsesRequest = z.looseObject({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(InputItem)]),
  instructions: z.string().nullish(),
  tools: z.array(z.looseObject({
    type: z.literal("function"),
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  })).optional(),
  tool_choice: ToolChoiceSchema.optional(),
  stream: z.boolean().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  user: z.string().nullish(),
  previous_response_id: z.string().nullish(),
});

type InputItemBody = z.infer<typeof InputItem>;

function toMessages(input: string | InputItemBody[]): ChatMessage[] {
  if (typeof input === "string") return [{ role: "user", content: input }];
  const out: ChatMessage[] = [];
  for (const item of input) {
    const type = item.type ?? "message";
    if (type === "message" && item.role) {
      out.push({
        role: item.role === "developer" ? "system" : item.role,
        content: contentText(item.content),
      });
    } else if (type === "function_call" && item.call_id && item.name) {
      const call = { id: item.call_id, name: item.name, arguments: item.arguments ?? "" };
      const last = out.at(-1);
      if (last?.role === "assistant") (last.toolCalls ??= []).push(call);
      else out.push({ role: "assistant", content: "", toolCalls: [call] });
    } else if (type === "function_call_output" && item.call_id) {
      out.push({ role: "tool", content: item.output ?? "", toolCallId: item.call_id });
    } else if (type === "message" || type === "function_call" || type === "function_call_output") {
      throw new HttpError(400, `input item of type '${type}' is missing required fields`);
    }
    // `reasoning` and `item_reference` items carry nothing this gateway replays.
  }
  if (!out.length) throw new HttpError(400, "input has no message to answer");
  return out;
}

function usageBody(usage: Usage | undefined) {
  return {
    input_tokens: usage?.inputTokens ?? 0,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage?.outputTokens ?? 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage?.totalTokens ?? 0,
  };
}

/** Handles one responses request from an authenticated caller. */
export async function handleResponses(
  request: Request,
  ctx: OpenAiRouteContext,
  sessions: ResponseSessionStore,
): Promise<Response> {
  const body = validate(ResponsesRequest, await readJson(request, ctx.bodyTimeoutMs));
  const tools: ToolSpec[] = (body.tools ?? []).map((t) => ({
    name: t.name,
    description: t.description ?? undefined,
    parameters: t.parameters ?? undefined,
  }));
  const toolChoice = toToolChoice(body.tool_choice, tools);
  const target = ctx.target(body.model, body.user ?? undefined);
  const previous = body.previous_response_id ? await sessions.get(body.previous_response_id) : undefined;
  if (previous && previous.agentId === target.agentId && !request.headers.has("x-openclaw-session-key")) {
    target.sessionKey = previous.sessionKey;
  }
  const { system, conversation } = splitSystem(toMessages(body.input));
  const client = clientAbort(request);
  const input = {
    sessionKey: target.sessionKey,
    agentId: target.agentId,
    // Kept so a later `previous_response_id` finds the conversation.
    ephemeral: false,
    messages: conversation,
    context: contextMode(conversation),
    system: [body.instructions, system].filter(Boolean).join("\n\n") || undefined,
    model: target.model,
    params: {
      tools: tools.length ? tools : undefined,
      toolChoice,
      maxTokens: body.max_output_tokens ?? undefined,
      temperature: body.temperature ?? undefined,
      topP: body.top_p ?? undefined,
    },
    signal: client.signal,
    origin: { kind: "http" as const },
  };
  const id = `resp_${ctx.newId()}`;
  const messageId = `msg_${ctx.newId()}`;
  const createdAt = epochSeconds(ctx.now());
  const model = body.model ?? "openclaw";
  const demanded = toolChoice === "required" || typeof toolChoice === "object";
  await sessions.remember(
    id,
    { agentId: target.agentId, sessionKey: target.sessionKey },
    RESPONSE_SESSION_TTL_MS,
  );

  const envelope = (status: string, output: unknown[], usage?: Usage) => ({
    id,
    object: "response",
    created_at: createdAt,
    status,
    model,
    output,
    usage: usageBody(usage),
  });
  const messageItem = (text: string, status: string) => ({
    type: "message",
    id: messageId,
    role: "assistant",
    content: status === "completed" || text ? [{ type: "output_text", text, annotations: [] }] : [],
    status,
  });
  const outputItems = (result: ChatResult) => [
    ...(result.text || !result.toolCalls.length ? [messageItem(result.text, "completed")] : []),
    ...result.toolCalls.map((c) => ({
      type: "function_call",
      id: `fc_${c.id}`,
      call_id: c.id,
      name: c.name,
      arguments: c.arguments,
      status: "completed",
    })),
  ];
  const check = (result: ChatResult) => {
    if (demanded && !result.toolCalls.length) {
      throw new HttpError(
        502,
        "tool_choice required a tool call, but the agent answered without one",
        "api_error",
      );
    }
    return result;
  };

  if (!body.stream) {
    const outcome = await ctx.runtime.startTurn({ ...input, stream: false }).done.finally(client.release);
    const result = check(succeeded(outcome));
    return jsonResponse(envelope("completed", outputItems(result), result.usage));
  }

  const events = await openRunStream(ctx.runtime, input);
  return sseResponse(async (write) => {
    const emit = (type: string, payload: Record<string, unknown>) =>
      write(JSON.stringify({ type, ...payload }), type);
    const part = { item_id: messageId, output_index: 0, content_index: 0 };
    emit("response.created", { response: envelope("in_progress", []) });
    emit("response.in_progress", { response: envelope("in_progress", []) });
    emit("response.output_item.added", { output_index: 0, item: messageItem("", "in_progress") });
    emit("response.content_part.added", {
      ...part,
      part: { type: "output_text", text: "", annotations: [] },
    });
    for await (const event of events) {
      if (event.type === "output" && event.event.type === "text") {
        emit("response.output_text.delta", { ...part, delta: event.event.text });
      } else if (event.type === "end") {
        try {
          const result = check(succeeded(event.outcome));
          emit("response.output_text.done", { ...part, text: result.text });
          emit("response.content_part.done", {
            ...part,
            part: { type: "output_text", text: result.text, annotations: [] },
          });
          emit("response.output_item.done", { output_index: 0, item: messageItem(result.text, "completed") });
          result.toolCalls.forEach((call, i) => {
            const item = { type: "function_call", id: `fc_${call.id}`, call_id: call.id, name: call.name };
            emit("response.output_item.added", {
              output_index: i + 1,
              item: { ...item, arguments: "", status: "in_progress" },
            });
            emit("response.function_call_arguments.delta", {
              item_id: item.id,
              output_index: i + 1,
              delta: call.arguments,
            });
            emit("response.function_call_arguments.done", {
              item_id: item.id,
              output_index: i + 1,
              arguments: call.arguments,
            });
            emit("response.output_item.done", {
              output_index: i + 1,
              item: { ...item, arguments: call.arguments, status: "completed" },
            });
          });
          const output = [
            messageItem(result.text, "completed"),
            ...outputItems(result).filter((o) => o.type !== "message"),
          ];
          emit("response.completed", { response: envelope("completed", output, result.usage) });
        } catch (error) {
          const { error: body } = errorBody(error);
          emit("response.failed", {
            response: { ...envelope("failed", []), error: { code: body.type, message: body.message } },
          });
        }
      }
    }
    write("[DONE]");
  }, client);
}
