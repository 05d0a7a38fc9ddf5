/**
 * The OpenAI-compatible HTTP API as a gateway module. The `/v1/*` routes answer 404 "Not Found" (as if
 * absent, like the reference) until `gateway.http.endpoints.chatCompletions.enabled` or
 * `.responses.enabled` is true — either flag exposes the whole set, as the reference does. Enabled
 * routes need gateway auth; flags are read per request so a hot reload applies at once.
 *
 * @module
 */
import type { AgentsModule } from "../../agents/module.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { bodyTimeoutMs } from "../../config/sections/gateway.ts";
import { missingScope } from "../../errors.ts";
import { scopeSatisfied } from "../../protocol/scopes.ts";
import type { CallerIdentity, GatewayContext, GatewayModule, RequestInfo } from "../../types.ts";
import { textResponse } from "../security-headers.ts";
import { handleChatCompletions } from "./chat-completions.ts";
import { handleEmbeddings } from "./embeddings.ts";
import { errorResponse } from "./errors.ts";
import { handleModels } from "./models.ts";
import { handleResponses, ResponseSessions } from "./responses.ts";
import type { OpenAiRouteContext } from "./route-context.ts";
import { resolveTarget } from "./target.ts";

/** Options for {@link openAiHttpModule}. */
export interface OpenAiHttpModuleOptions {
  /** The agents module whose runtime serves the requests; list it before this module. */
  agents: AgentsModule;
  /** Id generator for completion/response ids and fresh sessions. */
  newId?: () => string;
}

/** Whether the `/v1/*` set is on in `config`. */
export function openAiEndpointsEnabled(config: GatewayConfig): boolean {
  const endpoints = config.gateway?.http?.endpoints;
  return endpoints?.chatCompletions?.enabled === true || endpoints?.responses?.enabled === true;
}

type Handler = (request: Request, ctx: OpenAiRouteContext) => Promise<Response> | Response;

/** `/v1/models`, `/v1/chat/completions`, `/v1/responses`, `/v1/embeddings`. */
export function openAiHttpModule(options: OpenAiHttpModuleOptions): GatewayModule {
  const newId = options.newId ?? (() => crypto.randomUUID());
  const responseSessions = new ResponseSessions();
  return {
    name: "openai-http",
    setup(context: GatewayContext) {
      const logger = context.logger.child("openai-http");
      // The 404 matches the reference; the log line (once per process) says which setting turns it on.
      let offExplained = false;
      const off = (request: Request) => {
        if (!offExplained) {
          offExplained = true;
          logger.info(
            "OpenAI-compatible endpoints are off, so /v1/* answers 404; set gateway.http.endpoints.chatCompletions.enabled (or responses.enabled) to true to serve them",
            { path: new URL(request.url).pathname },
          );
        }
        return textResponse("Not Found", 404);
      };
      const guarded = (scope: string, handler: Handler) => async (request: Request, info: RequestInfo) => {
        if (!openAiEndpointsEnabled(context.config())) return off(request);
        const auth = await context.authenticateHttp(request, info);
        if (!auth.ok) return auth.response;
        const failed = (error: unknown) => {
          const response = errorResponse(error);
          if (response.status >= 500) {
            logger.warn("request failed", { path: new URL(request.url).pathname, error: String(error) });
          }
          return response;
        };
        try {
          requireScope(auth.caller, scope);
          const runtime = options.agents.runtime();
          const answer = handler(request, {
            runtime,
            now: () => context.now(),
            newId,
            bodyTimeoutMs: bodyTimeoutMs(context.config().gateway),
            target: (model, user) => resolveTarget(runtime, request, auth.caller, model, user, newId),
          });
          // Synchronous answers (the model list) are returned as they are: no second await on the hot path.
          return answer instanceof Promise ? answer.catch(failed) : answer;
        } catch (error) {
          return failed(error);
        }
      };
      context.registerRoute({
        path: "/v1/models",
        prefix: true,
        methods: ["GET", "HEAD"],
        handler: guarded(
          "operator.read",
          (request, ctx) => handleModels(request, ctx.runtime, context.prepareJsonResponse),
        ),
      });
      context.registerRoute({
        path: "/v1/chat/completions",
        methods: ["POST"],
        handler: guarded("operator.write", handleChatCompletions),
      });
      context.registerRoute({
        path: "/v1/responses",
        methods: ["POST"],
        handler: guarded("operator.write", (request, ctx) => handleResponses(request, ctx, responseSessions)),
      });
      context.registerRoute({
        path: "/v1/embeddings",
        methods: ["POST"],
        handler: guarded("operator.write", handleEmbeddings),
      });
    },
  };
}

function requireScope(caller: CallerIdentity, scope: string): void {
  if (!scopeSatisfied(caller.scopes, scope)) throw missingScope(scope);
}
