/**
 * `POST /tools/invoke`: always on, gateway auth and `operator.write`, body at most 2 MB. Success is
 * `200 {ok:true,result}`; a refused or failed call is `{ok:false,error:{type,message}}` with
 * 400/403/404/500. Body problems answer as the reference's shared HTTP helpers do:
 * `{error:{message,type:"invalid_request_error"}}` with 400 (not JSON), 408 (body too slow) or 413 (too
 * large).
 *
 * @module
 */
import { BodyError, bodyErrorResponse, readJsonBody } from "../http/read-body.ts";
import { jsonResponse } from "../http/response.ts";
import type { CallerIdentity, HttpRoute } from "../types.ts";
import type { ToolInvokeInput, ToolInvokeOutcome } from "./invoke.ts";

/** The reference's body cap for `/tools/invoke`. */
export const TOOLS_INVOKE_MAX_BODY_BYTES = 2 * 1024 * 1024;
/** What the route needs: the shared invocation bound to a caller, and the body limits. */
export interface ToolsInvokeRouteOptions {
  invoke(input: ToolInvokeInput, caller: CallerIdentity, signal: AbortSignal): Promise<ToolInvokeOutcome>;
  maxBodyBytes?: number;
  /** Read per request (`gateway.limits.bodyTimeoutMs`); a body not complete by then is refused with 408. */
  bodyTimeoutMs(): number;
}

/** The `/tools/invoke` route: gateway auth and `operator.write`, checked by the router. */
export function toolsInvokeRoute(options: ToolsInvokeRouteOptions): HttpRoute {
  const maxBytes = options.maxBodyBytes ?? TOOLS_INVOKE_MAX_BODY_BYTES;
  return {
    path: "/tools/invoke",
    methods: ["POST"],
    auth: "gateway",
    scope: "operator.write",
    scopeRefusal: (scope) =>
      jsonResponse(
        { ok: false, error: { type: "tool_call_blocked", message: `missing scope: ${scope}` } },
        403,
      ),
    async handler(request, _info, caller) {
      let body: unknown;
      try {
        body = await readJsonBody(request, {
          maxBytes,
          timeoutMs: options.bodyTimeoutMs(),
          words: { tooLarge: "Payload too large", tooSlow: "Request body timeout" },
        }, {});
      } catch (error) {
        if (!(error instanceof BodyError)) throw error;
        return bodyErrorResponse(error);
      }
      const outcome = await options.invoke(toInput(body), caller!, request.signal);
      return outcome.ok
        ? jsonResponse({ ok: true, result: outcome.result ?? null }, 200)
        : jsonResponse({ ok: false, error: outcome.error }, outcome.status);
    },
  };
}

/** Takes the known fields of a body; anything of the wrong type counts as absent, as the reference does. */
function toInput(body: unknown): ToolInvokeInput {
  const raw = typeof body === "object" && body !== null ? body as Record<string, unknown> : {};
  const text = (value: unknown) => typeof value === "string" ? value : undefined;
  const args = raw.args;
  const input: ToolInvokeInput = {
    name: text(raw.name),
    tool: text(raw.tool),
    action: text(raw.action),
    sessionKey: text(raw.sessionKey),
    agentId: text(raw.agentId),
    idempotencyKey: text(raw.idempotencyKey),
  };
  if (typeof args === "object" && args !== null && !Array.isArray(args)) {
    input.args = args as Record<string, unknown>;
  }
  return input;
}
