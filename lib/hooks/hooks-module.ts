/**
 * The hooks module: `POST <hooks.path>/wake`, `/agent` and mapped `/<name>` as OpenClaw serves them.
 * Hook token auth (separate from the gateway's), its own failure limiter (20 per minute per IP, then a
 * minute locked, loopback included), a body limit, idempotency keys, and delivery of the reply to a
 * channel when asked. The pieces: `auth.ts` (who may call), `route.ts` (the HTTP route), `requests.ts`
 * and `mapping.ts` (what a request asks for), `actions.ts` (carrying it out), `policy.ts` (the rules).
 *
 * @module
 */
import type { AgentsModule } from "../agents/agents-module.ts";
import type { ChannelsModule } from "../channels/channels-module.ts";
import { secretString } from "../channels/status.ts";
import { replyingTurns, type ReplySend, replySender } from "../channels/replies.ts";
import { type AgentTurns, agentTurns } from "../channels/turns.ts";
import type { MetricsRecorder } from "../metrics/recorder.ts";
import type { GatewayContext, GatewayModule, RequestInfo } from "../types.ts";
import { HookActions } from "./actions.ts";
import { hookRoute } from "./route.ts";
import { OneAtATime } from "../auth/one-at-a-time.ts";

/** Where hooks are served unless `hooks.path` says otherwise. */
export const DEFAULT_HOOKS_PATH = "/hooks";

/** Options for {@link hooksModule}. */
export interface HooksModuleOptions {
  /** Hook calls run as turns of these agents; without it (or `turns`) hook calls answer 503. */
  agents?: AgentsModule;
  /**
   * Overrides how turns start (tests, embedders without the agents module). A turn these start for a
   * delivery (`channel` and `to`) has its reply sent through `channels` once its `done` resolves with `ok`
   * and some text, unless the turn sends it itself (`StartedTurn.deliversReply`, as `agentTurns()`'s do).
   */
  turns?: AgentTurns;
  /** Needed for `deliver` with `channel` and `to`. */
  channels?: ChannelsModule;
  /** Counts hook calls by outcome; from `metricsModule().recorder`. */
  metrics?: MetricsRecorder;
}

/**
 * Creates the hooks module: `POST <hooks.path>/wake`, `/agent` and the mapped `/<name>` routes, behind
 * the hook token.
 *
 * @example A mapped hook that turns a payload into an agent turn
 * ```ts
 * import { agentsModule, createGateway, hooksModule } from "@openclaw-ts/gateway";
 *
 * const agents = agentsModule();
 * const gateway = createGateway({
 *   config: {
 *     gateway: { auth: { token: "gateway-s3cret" } },
 *     hooks: {
 *       enabled: true,
 *       token: "hook-s3cret",
 *       mappings: [{
 *         match: { path: "github" },
 *         action: "agent",
 *         messageTemplate: "New push to {{payload.repository}}",
 *       }],
 *     },
 *   },
 *   modules: [agents, hooksModule({ agents })],
 * });
 * await gateway.start();
 *
 * const response = await gateway.fetch(
 *   new Request("http://127.0.0.1/hooks/github", {
 *     method: "POST",
 *     headers: { authorization: "Bearer hook-s3cret", "content-type": "application/json" },
 *     body: JSON.stringify({ repository: "acme/site" }),
 *   }),
 * );
 * const { runId } = await response.json();
 * if (response.status !== 200 || !runId) throw new Error(`hook answered ${response.status}`);
 * await gateway.stop();
 * ```
 */
export function hooksModule(options: HooksModuleOptions = {}): GatewayModule {
  return {
    name: "hooks",
    setup(context: GatewayContext) {
      const actions = new HookActions({
        turns: options.turns
          ? replyingTurns(options.turns, channelReplies(options.channels, context))
          : options.agents && agentTurns(options.agents),
        channels: options.channels,
        logger: context.logger,
        now: () => context.now(),
        idempotency: context.stores.idempotency,
        systemEvents: context.stores.systemEvents,
      });
      const basePath = () => (context.config().hooks?.path ?? DEFAULT_HOOKS_PATH).replace(/\/+$/, "");
      const routeOptions = {
        context,
        actions,
        metrics: options.metrics,
        basePath,
        rateLimits: context.stores.rateLimits,
        attempts: new OneAtATime(),
        clientAddress: (request: Request, info: RequestInfo) => context.clientAddress(request, info),
      };
      // A route per path `hooks.path` has had: routes cannot be removed, so a moved path's old route
      // stays and answers 404 (see the route's `enabled`).
      const routes = new Set<string>();
      const ensureRoute = () => {
        const path = basePath();
        if (!path || routes.has(path)) return;
        routes.add(path);
        context.registerRoute(hookRoute(path, routeOptions));
      };
      ensureRoute();
      context.onConfigChange(ensureRoute);
      warnOnSharedToken(context);
    },
  };
}

/** Replies of the embedder's turns, sent through the channels module (a delivery needs one to be accepted). */
function channelReplies(channels: ChannelsModule | undefined, context: GatewayContext): ReplySend {
  return replySender(async ({ channel, to }, text) => {
    if (!channels) throw new Error("no channels module");
    await channels.send(channel, to, text);
  }, context);
}

/** The hook token is handed to outside senders; the gateway token must not be among what they hold. */
function warnOnSharedToken(context: GatewayContext): void {
  const hooks = context.config().hooks ?? {};
  const gatewayToken = secretString(context.config().gateway?.auth?.token) ??
    secretString(context.env.OPENCLAW_GATEWAY_TOKEN);
  const hookToken = secretString(hooks.token);
  if (hooks.enabled && hookToken && gatewayToken && hookToken === gatewayToken) {
    context.logger.warn("hooks.token equals the gateway token; use a separate hook token");
  }
}
