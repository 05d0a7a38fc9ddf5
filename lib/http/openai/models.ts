/**
 * `GET /v1/models` and `GET /v1/models/{id}`: the agent targets (`openclaw`, `openclaw/default`,
 * `openclaw/<agentId>`), never backend provider models, in the reference's exact shape.
 *
 * @module
 */
import type { AgentRuntime } from "../../agents/runtime.ts";
import type { AgentCatalog } from "../../agents/catalog.ts";
import { pathOf } from "../router.ts";
import type { GatewayContext, PreparedResponse } from "../../types.ts";
import { jsonResponse } from "../response.ts";
import { openAiError } from "./errors.ts";

function modelRow(id: string) {
  return { id, object: "model", created: 0, owned_by: "openclaw", permission: [] };
}

function targetIds(runtime: AgentRuntime): string[] {
  return ["openclaw", "openclaw/default", ...runtime.agents().agents.map((a) => `openclaw/${a.id}`)];
}

/** The list answer per agent catalog: it only changes with config, and clients poll it. */
const lists = new WeakMap<AgentCatalog, PreparedResponse>();

function listResponse(runtime: AgentRuntime, prepare: GatewayContext["prepareJsonResponse"]): Response {
  const catalog = runtime.agents();
  let list = lists.get(catalog);
  if (list === undefined) {
    list = prepare(JSON.stringify({ object: "list", data: targetIds(runtime).map(modelRow) }));
    lists.set(catalog, list);
  }
  return list();
}

/** Answers the list, or one model when the path has an id (URL-encoded: `openclaw%2Fdefault`). */
export function handleModels(
  request: Request,
  runtime: AgentRuntime,
  prepare: GatewayContext["prepareJsonResponse"],
): Response {
  const path = pathOf(request.url);
  if (path === "/v1/models" || path === "/v1/models/") return listResponse(runtime, prepare);
  const ids = targetIds(runtime);
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
