/**
 * `POST /v1/embeddings`: the agent's embedding model (or `x-openclaw-model`) embeds a string or a list
 * of strings. Vectors go out as floats, or as base64 little-endian float32 when asked (the official
 * `openai` SDK asks for base64 by default).
 *
 * @module
 */
import * as z from "zod";
import { jsonResponse } from "../response.ts";
import { readJson, validate } from "./body.ts";
import { HttpError } from "./errors.ts";
import type { OpenAiRouteContext } from "./route-context.ts";
import { clientAbort } from "./disconnect.ts";

const EmbeddingsRequest = z.looseObject({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(z.string()).min(1)]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  user: z.string().optional(),
});

function base64Floats(vector: number[]): string {
  const bytes = new Uint8Array(new Float32Array(vector).buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

/** Handles one embeddings request from an authenticated caller. */
export async function handleEmbeddings(request: Request, ctx: OpenAiRouteContext): Promise<Response> {
  const body = validate(EmbeddingsRequest, await readJson(request, ctx.bodyTimeoutMs));
  const input = typeof body.input === "string" ? [body.input] : body.input;
  const target = ctx.target(body.model, body.user);
  const client = clientAbort(request);
  const { result } = await ctx.runtime.embed(target.agentId, target.model, input, client.signal)
    .finally(client.release);
  if (result.vectors.length !== input.length) {
    throw new HttpError(
      502,
      `the embedding model returned ${result.vectors.length} vectors for ${input.length} inputs`,
      "api_error",
    );
  }
  const encode = body.encoding_format === "base64" ? base64Floats : (v: number[]) => v;
  return jsonResponse({
    object: "list",
    data: result.vectors.map((vector, index) => ({ object: "embedding", index, embedding: encode(vector) })),
    model: body.model ?? "openclaw",
    usage: { prompt_tokens: result.usage?.inputTokens ?? 0, total_tokens: result.usage?.totalTokens ?? 0 },
  });
}
