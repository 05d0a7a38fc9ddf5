/**
 * The hooks' HTTP route: a prefix route at `hooks.path` that is on while `hooks.enabled` (and the path
 * still is its path), admits callers by the hook token, then reads the body and dispatches by name:
 * `/wake`, `/agent`, or a mapping. Every answer past the on-check is counted in the webhook metrics.
 *
 * @module
 */
import type { HooksSection } from "../config/sections/hooks.ts";
import { bodyTimeoutMs } from "../config/sections/gateway.ts";
import { BodyError } from "../http/read-body.ts";
import type { MetricsRecorder } from "../metrics/recorder.ts";
import type { GatewayContext, HttpRoute } from "../types.ts";
import type { HookActions } from "./actions.ts";
import { authenticateHook, type HookAuthOptions, hookError } from "./auth.ts";
import { findMapping, mappedAction } from "./mapping.ts";
import { HookRefusal } from "./policy.ts";
import { AgentBody, parseHookBody, readHookPayload, WakeBody } from "./requests.ts";

/** Body limit unless `hooks.maxBodyBytes` says otherwise. */
export const DEFAULT_HOOK_MAX_BODY_BYTES = 256 * 1024;

/** What the route works with. */
export interface HookRouteOptions extends HookAuthOptions {
  context: GatewayContext;
  actions: HookActions;
  metrics?: MetricsRecorder;
  /** `hooks.path` now, without a trailing slash. */
  basePath(): string;
}

/** The route serving hooks under `routePath` (one per path `hooks.path` has had). */
export function hookRoute(routePath: string, options: HookRouteOptions): HttpRoute {
  const { context } = options;
  const hooksConfig = (): HooksSection => context.config().hooks ?? {};
  const nameOf = (request: Request) =>
    new URL(request.url).pathname.slice(routePath.length).replace(/^\/+|\/+$/g, "");
  const metered = (label: string, started: number, response: Response) => {
    const outcome = response.status < 400 ? "ok" : "error";
    options.metrics?.webhook(label, outcome, (context.now() - started) / 1000);
    return response;
  };
  return {
    path: routePath,
    prefix: true,
    enabled(request) {
      const { pathname } = new URL(request.url);
      const inside = pathname === routePath || pathname.startsWith(`${routePath}/`);
      return Boolean(hooksConfig().enabled) && options.basePath() === routePath && inside;
    },
    async auth(request, info) {
      const started = context.now();
      const verdict = await authenticateHook(request, info, hooksConfig(), options);
      if (!verdict.ok) metered(directLabel(nameOf(request)), started, verdict.response);
      return verdict;
    },
    async handler(request) {
      const started = context.now();
      const name = nameOf(request);
      const hooks = hooksConfig();
      const served = { label: directLabel(name) };
      let response: Response;
      try {
        const payload = await readHookPayload(
          request,
          hooks.maxBodyBytes ?? DEFAULT_HOOK_MAX_BODY_BYTES,
          bodyTimeoutMs(context.config().gateway),
        );
        response = await runHook(options.actions, hooks, name, payload, served);
      } catch (error) {
        if (!(error instanceof HookRefusal || error instanceof BodyError)) throw error;
        response = hookError(error.status, error.message);
      }
      return metered(served.label, started, response);
    },
  };
}

/** Runs what hook `name` stands for; for a mapping, `served.label` becomes the mapping's label. */
async function runHook(
  actions: HookActions,
  hooks: HooksSection,
  name: string,
  payload: Record<string, unknown>,
  served: { label: string },
): Promise<Response> {
  if (name === "wake") {
    const body = parseHookBody(WakeBody, payload);
    return await actions.wake(hooks, {
      ...body,
      mode: body.mode ?? "now",
      callerKey: true,
      strictAgent: true,
    });
  }
  if (name === "agent") {
    const body = parseHookBody(AgentBody, payload);
    return await actions.agent(hooks, "agent", {
      ...body,
      callerKey: true,
      strictAgent: true,
      callerTarget: true,
      sessionMode: body.sessionMode ?? "isolated",
    }, body.idempotencyKey);
  }
  const { mapping, label } = findMapping(hooks, name, payload);
  served.label = label;
  const mapped = mappedAction(hooks, mapping, payload);
  return mapped.kind === "wake"
    ? await actions.wake(hooks, mapped.action)
    : await actions.agent(hooks, name, mapped.action, mapped.idempotencyKey);
}

/** The metrics label of a direct hook; mapped hooks are labelled by their mapping once it is found. */
function directLabel(name: string): string {
  return name === "wake" || name === "agent" ? name : "unknown";
}
