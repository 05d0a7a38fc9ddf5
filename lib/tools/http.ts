/**
 * `POST /tools/invoke`: always on, gateway auth, body at most 2 MB. Success is `200 {ok:true,result}`;
 * a refused or failed call is `{ok:false,error:{type,message}}` with 400/403/404/500. Body problems
 * answer as the reference's shared HTTP helpers do: `{error:{message,type:"invalid_request_error"}}`
 * with 400 (not JSON), 408 (body too slow) or 413 (too large).
 *
 * @module
 */
import { scopeSatisfied } from "../protocol/scopes.ts";
import { BodyLimitError, readBodyText } from "../http/read-body.ts";
import { jsonResponse } from "../http/security-headers.ts";
import type { CallerIdentity, HttpAuthResult, HttpRoute, RequestInfo } from "../types.ts";
import type { ToolInvokeInput, ToolInvokeOutcome } from "./invoke.ts";

/** The reference's body cap for `/tools/invoke`. */
export const TOOLS_INVOKE_MAX_BODY_BYTES = 2 * 1024 * 1024;
/** What the route needs: auth, and the shared invocation bound to a caller. */
export interface ToolsInvokeRouteOptions {
  authenticate(request: Request, info: RequestInfo): Promise<HttpAuthResult>;
  invoke(input: ToolInvokeInput, caller: CallerIdentity, signal: AbortSignal): Promise<ToolInvokeOutcome>;
  maxBodyBytes?: number;
  /** Read per request (`gateway.limits.bodyTimeoutMs`); a body not complete by then is refused with 408. */
  bodyTimeoutMs(): number;
}

/** The `/tools/invoke` route. */
export function toolsInvokeRoute(options: ToolsInvokeRouteOptions): HttpRoute {
  const maxBytes = options.maxBodyBytes ?? TOOLS_INVOKE_MAX_BODY_BYTES;
  return {
    path: "/tools/invoke",
    methods: ["POST"],
    async handler(request, info) {
      const auth = await options.authenticate(request, info);
      if (!auth.ok) return auth.response;
      if (!scopeSatisfied(auth.caller.scopes, "operator.write")) {
        return jsonResponse(
          { ok: false, error: { type: "tool_call_blocked", message: "missing scope: operator.write" } },
          403,
        );
      }
      let body: unknown;
      try {
        body = await readJsonBody(request, maxBytes, options.bodyTimeoutMs());
      } catch (error) {
        const status = error instanceof BodyLimitError ? error.status : 400;
        // The reference's wording for the two limits; otherwise the JSON parser's message.
        const message = status === 413
          ? "Payload too large"
          : status === 408
          ? "Request body timeout"
          : error instanceof Error
          ? error.message
          : String(error);
        return jsonResponse({ error: { message, type: "invalid_request_error" } }, status);
      }
      const outcome = await options.invoke(toInput(body), auth.caller, request.signal);
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

/** Reads at most `maxBytes` within `timeoutMs` and parses them as JSON (an empty body is `{}`). */
async function readJsonBody(request: Request, maxBytes: number, timeoutMs: number): Promise<unknown> {
  const text = await readBodyText(request, maxBytes, timeoutMs);
  return text.trim() ? JSON.parse(text) : {};
}
