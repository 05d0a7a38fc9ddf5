/**
 * The OpenAI-compatible HTTP API as a gateway module. The `/v1/*` routes answer 404 "Not Found" (as if
 * absent, like the reference) until `gateway.http.endpoints.chatCompletions.enabled` or
 * `.responses.enabled` is true — either flag exposes the whole set, as the reference does. Enabled
 * routes need gateway auth; flags are read per request so a hot reload applies at once.
 *
 * @module
 */
import type { AgentsModule } from "../../agents/agents-module.ts";
import type { GatewayConfig } from "../../config/schema.ts";
import { bodyTimeoutMs } from "../../config/sections/gateway.ts";
import type { Logger } from "../../log/logger.ts";
import { once } from "../../once.ts";
import type { MethodScope } from "../../protocol/scopes.ts";
import type { GatewayContext, GatewayModule, HttpHandler, HttpRoute } from "../../types.ts";
import { errorResponse } from "./errors.ts";
import { handleModels } from "./models.ts";
import type { OpenAiRouteContext } from "./route-context.ts";
import { resolveTarget } from "./target.ts";

/** Options for {@link openAiHttpModule}. */
export interface OpenAiHttpModuleOptions {
  /** The agents module whose runtime serves the requests; list it before this module. */
  agents: AgentsModule;
  /** Id generator for completion/response ids and fresh sessions. */
  newId?: () => string;
}

/**
 * Whether the `/v1/*` set is on in `config`.
 *
 * @example Either endpoint turns the set on
 * ```ts
 * import { openAiEndpointsEnabled } from "@openclaw-ts/gateway";
 *
 * if (openAiEndpointsEnabled({})) throw new Error("on by default");
 * if (!openAiEndpointsEnabled({ gateway: { http: { endpoints: { responses: { enabled: true } } } } })) {
 *   throw new Error("responses alone should turn /v1/* on");
 * }
 * ```
 */
export function openAiEndpointsEnabled(config: GatewayConfig): boolean {
  const endpoints = config.gateway?.http?.endpoints;
  return endpoints?.chatCompletions?.enabled === true || endpoints?.responses?.enabled === true;
}

type Handler = (request: Request, ctx: OpenAiRouteContext) => Promise<Response> | Response;

/** What every `/v1/*` handler is built from. */
interface Services {
  context: GatewayContext;
  logger: Logger;
  agents: AgentsModule;
  newId: () => string;
}

/**
 * `/v1/models`, `/v1/chat/completions`, `/v1/responses`, `/v1/embeddings`.
 *
 * @example List the agent targets an OpenAI client can name as its model
 * ```ts
 * import { agentsModule, createGateway, memoryTransport, openAiHttpModule } from "@openclaw-ts/gateway";
 *
 * const agents = agentsModule();
 * const transport = memoryTransport();
 * const gateway = createGateway({
 *   transport,
 *   config: { gateway: { auth: { token: "s3cret" }, http: { endpoints: { chatCompletions: { enabled: true } } } } },
 *   modules: [agents, openAiHttpModule({ agents })],
 * });
 * await gateway.start();
 * const response = await transport.fetch("/v1/models", { headers: { authorization: "Bearer s3cret" } });
 * const { data } = await response.json() as { data: { id: string }[] };
 * if (!data.some((model) => model.id === "openclaw")) throw new Error(JSON.stringify(data));
 * await gateway.stop();
 * ```
 */
export function openAiHttpModule(options: OpenAiHttpModuleOptions): GatewayModule {
  const newId = options.newId ?? (() => crypto.randomUUID());
  return {
    name: "openai-http",
    setup(context: GatewayContext) {
      const services = {
        context,
        logger: context.logger.child("openai-http"),
        agents: options.agents,
        newId,
      };
      const enabled = enabledExplained(services);
      const route = (path: string, methods: string[], scope: MethodScope, handler: Handler): HttpRoute => ({
        path,
        methods,
        enabled,
        auth: "gateway",
        scope,
        handler: openAiHandler(services, handler),
      });
      context.registerRoute({
        path: "/v1/models",
        prefix: true,
        methods: ["GET", "HEAD"],
        enabled,
        auth: "gateway",
        scope: "operator.read",
        handler: modelsHandler(services),
      });
      const chat = imported(async () => (await import("./chat-completions.ts")).handleChatCompletions);
      context.registerRoute(route("/v1/chat/completions", ["POST"], "operator.write", chat));
      const responses = imported(async () => {
        const { handleResponses } = await import("./responses.ts");
        return (request, ctx) => handleResponses(request, ctx, context.stores.responseSessions);
      });
      context.registerRoute(route("/v1/responses", ["POST"], "operator.write", responses));
      const embeddings = imported(async () => (await import("./embeddings.ts")).handleEmbeddings);
      context.registerRoute(route("/v1/embeddings", ["POST"], "operator.write", embeddings));
    },
  };
}

/**
 * A handler imported on its first request: with the endpoints off (the default) their request schemas are
 * never built, and their code never loaded.
 */
function imported(load: () => Promise<Handler>): Handler {
  let handler: Handler | undefined;
  const loading = once(() => load().then((loaded) => (handler = loaded)));
  return (request, ctx) => handler ? handler(request, ctx) : loading().then((loaded) => loaded(request, ctx));
}

/** What a handler threw, as an OpenAI-shaped error (logged when it is the gateway's fault). */
function failure(logger: Logger): (request: Request, error: unknown) => Response {
  return (request, error) => {
    const response = errorResponse(error);
    if (response.status >= 500) {
      logger.warn("request failed", { path: new URL(request.url).pathname, error: String(error) });
    }
    return response;
  };
}

/**
 * The model list: clients poll it, and it needs only the runtime, so it goes without the per-request
 * route context (an object and a closure) the other routes get.
 */
function modelsHandler({ context, logger, agents }: Services): HttpHandler {
  const failed = failure(logger);
  return (request) => {
    try {
      return handleModels(request, agents.runtime(), context.prepareJsonResponse);
    } catch (error) {
      return failed(request, error);
    }
  };
}

/** Runs `handler` for an admitted caller, turning what it throws into OpenAI-shaped errors. */
function openAiHandler({ context, logger, agents, newId }: Services, handler: Handler): HttpHandler {
  const failed = failure(logger);
  const now = () => context.now();
  return (request, _info, caller) => {
    try {
      const runtime = agents.runtime();
      const answer = handler(request, {
        runtime,
        now,
        newId,
        bodyTimeoutMs: bodyTimeoutMs(context.config().gateway),
        target: (model, user) => resolveTarget(runtime, request, caller!, model, user, newId),
      });
      return answer instanceof Promise ? answer.catch((error) => failed(request, error)) : answer;
    } catch (error) {
      return failed(request, error);
    }
  };
}

/**
 * The routes' `enabled` check. The 404 while off matches the reference; the log line (once per process)
 * says which setting turns them on.
 */
function enabledExplained({ context, logger }: Services): (request: Request) => boolean {
  let offExplained = false;
  return (request) => {
    if (openAiEndpointsEnabled(context.config())) return true;
    if (!offExplained) {
      offExplained = true;
      logger.info(
        "OpenAI-compatible endpoints are off, so /v1/* answers 404; set gateway.http.endpoints.chatCompletions.enabled (or responses.enabled) to true to serve them",
        { path: new URL(request.url).pathname },
      );
    }
    return false;
  };
}
