/**
 * `GET /v1/models` and `GET /v1/models/{id}`: the agent targets (`openclaw`, `openclaw/default`,
 * `openclaw/<agentId>`), never backend provider models, in the reference's exact shape.
 *
 * @module
 */
import type { AgentRuntime } from "../../agents/runtime.ts";
import { jsonResponse } from "../security-headers.ts";
import { openAiError } from "./errors.ts";

function modelRow(id: string) {
  return { id, object: "model", created: 0, owned_by: "openclaw", permission: [] };
}

function targetIds(runtime: AgentRuntime): string[] {
  return ["openclaw", "openclaw/default", ...runtime.agents().agents.map((a) => `openclaw/${a.id}`)];
}

/** Answers the list, or one model when the path has an id (URL-encoded: `openclaw%2Fdefault`). */
export function handleModels(request: Request, runtime: AgentRuntime): Response {
  const path = new URL(request.url).pathname;
  const ids = targetIds(runtime);
  if (path === "/v1/models" || path === "/v1/models/") {
    return jsonResponse({ object: "list", data: ids.map(modelRow) });
  }
  if (!path.startsWith("/v1/models/")) return openAiError(404, "Not Found", "invalid_request_error");
  let id: string;
  try {
    id = decodeURIComponent(path.slice("/v1/models/".length));
  } catch {
    return openAiError(400, "model id is not valid URL encoding", "invalid_request_error");
  }
  if (!ids.includes(id)) {
    return openAiError(404, `The model '${id}' does not exist`, "invalid_request_error", "model_not_found");
  }
  return jsonResponse(modelRow(id));
}
