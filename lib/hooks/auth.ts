/**
 * Who may call a hook: `POST` only, the hook token (never the gateway's) in `Authorization: Bearer` or
 * `X-OpenClaw-Token` and never in the query string, with its own failure limiter. Checked from the head
 * of the request, before any body is read.
 *
 * @module
 */
import type { OneAtATime } from "../auth/one-at-a-time.ts";
import { secretsEqual } from "../auth/shared-secret.ts";
import { secretString } from "../channels/status.ts";
import type { HooksSection } from "../config/sections/hooks.ts";
import type { RateLimitPolicy, RateLimitStore } from "../state/rate-limit.ts";
import { jsonResponse, textResponse } from "../http/response.ts";
import type { HttpAuthResult, RequestInfo } from "../types.ts";

/** The hook limiter is fixed, as in the reference (20 failures a minute per client, then a minute locked). */
export const HOOK_RATE_LIMIT: RateLimitPolicy = { max: 20, windowMs: 60_000, lockoutMs: 60_000 };

/** What the hook check needs from the gateway. */
export interface HookAuthOptions {
  /** Counts failures per client (loopback included) under {@link HOOK_RATE_LIMIT}. */
  rateLimits: RateLimitStore;
  /** Serialises attempts per client, so parallel guesses cannot all pass the lockout check. */
  attempts: OneAtATime;
  /** The client a request is attributed to (see `GatewayContext.clientAddress`). */
  clientAddress(request: Request, info: RequestInfo): string;
}

/**
 * Checks `request` against the hook token. The caller it admits stands for every hook sender (they share
 * the one token), with no operator scopes.
 */
export async function authenticateHook(
  request: Request,
  info: RequestInfo,
  hooks: HooksSection,
  options: HookAuthOptions,
): Promise<HttpAuthResult> {
  if (request.method !== "POST") return refused(textResponse("Method Not Allowed", 405, { Allow: "POST" }));
  if (new URL(request.url).searchParams.has("token")) {
    return refused(
      hookError(400, "hook tokens in the query string are rejected; send Authorization: Bearer <token>"),
    );
  }
  const address = options.clientAddress(request, info);
  const key = `hooks:${address}`;
  // Check, compare and count one attempt at a time per client (see OneAtATime).
  return await options.attempts.run(key, async (): Promise<HttpAuthResult> => {
    const { hits, retryAfterMs: retryAfter } = await options.rateLimits.peek(key, HOOK_RATE_LIMIT);
    if (retryAfter > 0) {
      return refused(
        textResponse("Too Many Requests", 429, { "Retry-After": String(Math.ceil(retryAfter / 1000)) }),
      );
    }
    const expected = secretString(hooks.token);
    if (!expected) return refused(hookError(503, "hooks.token is not set or did not resolve"));
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1]?.trim();
    const provided = bearer ?? request.headers.get("x-openclaw-token")?.trim() ?? "";
    if (!provided || !secretsEqual(provided, expected)) {
      await options.rateLimits.hit(key, HOOK_RATE_LIMIT);
      return refused(
        hookError(401, "unauthorized: send the hook token as Authorization: Bearer <hooks.token>"),
      );
    }
    // A shared store is written only when there is something to forget.
    if (hits > 0) await options.rateLimits.reset(key);
    return {
      ok: true,
      caller: {
        connId: "hooks",
        role: "operator",
        scopes: [],
        authMethod: "hook-token",
        remoteAddress: address,
      },
    };
  });
}

function refused(response: Response): HttpAuthResult {
  return { ok: false, response };
}

/** A hook refusal as the reference answers it: `{ok:false,error}`. */
export function hookError(status: number, error: string): Response {
  return jsonResponse({ ok: false, error }, status);
}
