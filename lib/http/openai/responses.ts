/**
 * `POST /v1/responses` (OpenResponses): the Responses API over an agent turn, whole or as the
 * `response.*` SSE event sequence the reference sends. `previous_response_id` continues the session
 * the earlier response ran in.
 *
 * @module
 */
import * as z from "zod";
import type { ChatMessage, ToolSpec } from "../../providers/types.ts";
import { jsonResponse } from "../response.ts";
import { readJson, validate } from "./body.ts";
import { HttpError } from "./errors.ts";
import { succeeded } from "./run-result.ts";
import { ContentSchema, contentText, epochSeconds, ToolChoiceSchema, toToolChoice } from "./messages.ts";
import { ResponseObjects } from "./responses-objects.ts";
import { streamResponseEvents } from "./responses-stream.ts";
import type { OpenAiRouteContext } from "./route-context.ts";
import { openRunStream } from "./run-stream.ts";
import { sseResponse } from "./sse.ts";
import { type TurnAsk, turnInput } from "./turn-input.ts";
import { clientAbort } from "./disconnect.ts";
import { RESPONSE_SESSION_TTL_MS, type ResponseSessionStore } from "../../state/response-sessions.ts";

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

type ResponsesBody = z.infer<typeof ResponsesRequest>;

/** Handles one responses request from an authenticated caller. */
export async function handleResponses(
  request: Request,
  ctx: OpenAiRouteContext,
  sessions: ResponseSessionStore,
): Promise<Response> {
  const body = validate(ResponsesRequest, await readJson(request, ctx.bodyTimeoutMs));
  const tools = toolSpecs(body);
  const toolChoice = toToolChoice(body.tool_choice, tools);
  const target = ctx.target(body.model, body.user ?? undefined);
  const previous = body.previous_response_id ? await sessions.get(body.previous_response_id) : undefined;
  if (previous && previous.agentId === target.agentId && !request.headers.has("x-openclaw-session-key")) {
    target.sessionKey = previous.sessionKey;
  }
  const messages = toMessages(body.input);
  const client = clientAbort(request);
  // Never ephemeral: a later `previous_response_id` must find the conversation.
  const ask = {
    tools,
    toolChoice,
    sampling: sampling(body),
    instructions: body.instructions,
    ephemeral: false,
  };
  const input = turnInput(target, messages, ask, client.signal);
  const objects = new ResponseObjects({
    id: `resp_${ctx.newId()}`,
    messageId: `msg_${ctx.newId()}`,
    createdAt: epochSeconds(ctx.now()),
    model: body.model ?? "openclaw",
    toolDemanded: toolChoice === "required" || typeof toolChoice === "object",
  });
  await sessions.remember(
    objects.identity.id,
    { agentId: target.agentId, sessionKey: target.sessionKey },
    RESPONSE_SESSION_TTL_MS,
  );
  if (!body.stream) {
    const outcome = await ctx.runtime.startTurn({ ...input, stream: false }).done.finally(client.release);
    const result = objects.checked(succeeded(outcome));
    return jsonResponse(objects.envelope("completed", objects.outputItems(result), result.usage));
  }
  const events = await openRunStream(ctx.runtime, input);
  return sseResponse((write) => streamResponseEvents(objects, events, write), client);
}

/** The sampling fields of a Responses body, as the turn takes them. */
function sampling(body: ResponsesBody): TurnAsk["sampling"] {
  return {
    maxTokens: body.max_output_tokens ?? undefined,
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
  };
}

function toolSpecs(body: ResponsesBody): ToolSpec[] {
  return (body.tools ?? []).map((t) => ({
    name: t.name,
    description: t.description ?? undefined,
    parameters: t.parameters ?? undefined,
  }));
}
