/**
 * Hot config changes: validate, resolve auth, swap the config and auth in the state, rebuild the secret
 * redactor, tell the modules' listeners, and announce `config.changed` (without the content).
 *
 * @module
 */
import { authConfigProblem, resolveAuth, type ResolvedAuth } from "../auth/shared-secret.ts";
import { validateConfig } from "../config/schema.ts";
import { toErrorShape } from "../errors.ts";
import type { GatewayCore } from "./core.ts";
import type { ConfigUpdateResult } from "./types.ts";

/** Applies `next` when it validates and its auth resolves; otherwise keeps the running config. */
export function applyConfigUpdate(
  { state, now, env, logger, stores, refreshSecrets, extensions: { configListeners } }: Pick<
    GatewayCore,
    "state" | "now" | "env" | "logger" | "stores" | "refreshSecrets" | "extensions"
  >,
  next: unknown,
  source: { path?: string; hash?: string },
): ConfigUpdateResult {
  const result = validateConfig(next);
  if (!result.ok) {
    logger.warn("config update rejected; keeping the running config", { issues: result.issues });
    return { ok: false, issues: result.issues };
  }
  let nextAuth: ResolvedAuth;
  try {
    nextAuth = resolveAuth(result.config.gateway?.auth, env);
  } catch (error) {
    // An unresolved SecretRef (an object where a string belongs) is a bad config, not a crash.
    const issues = [{ path: "gateway.auth", message: toErrorShape(error).message }];
    logger.warn("config update rejected; keeping the running config", { issues });
    return { ok: false, issues };
  }
  const problem = authConfigProblem(nextAuth);
  if (problem) return { ok: false, issues: [{ path: "gateway.auth", message: problem }] };
  const previous = state.config;
  state.config = result.config;
  state.auth = nextAuth;
  refreshSecrets();
  for (const listener of configListeners) {
    try {
      listener(state.config, previous);
    } catch (error) {
      logger.error("config listener failed", { error: String(error) });
    }
  }
  // Never the content: it may hold secrets, and clients re-read it with config.get if they care.
  stores.bus.publish({
    event: "config.changed",
    payload: { ...source, ts: now() },
    scope: "operator.read",
    local: true,
  });
  return { ok: true };
}
