/**
 * Which sessions a session tool may read for the run that calls it (`tools.sessions.visibility`).
 * Runs started by hooks and channels carry outside content, so unless configured they see only their
 * own session: a crafted message cannot make the agent fetch another conversation and send it on.
 *
 * @module
 */
import { canonicalSessionKey, mainSessionKey } from "../agents/session-keys.ts";
import type { GatewayConfig } from "../config/schema.ts";
import { EXTERNAL_SESSION_VISIBILITY, type SessionVisibility } from "../config/sections/tools.ts";
import { ToolInputError } from "./types.ts";

/** The bound for a run; `undefined` (operator-started runs) means no bound. */
export function runSessionVisibility(
  config: GatewayConfig,
  external: boolean,
): SessionVisibility | undefined {
  return external ? config.tools?.sessions?.visibility ?? EXTERNAL_SESSION_VISIBILITY : undefined;
}

/** Where the call is made from. */
interface Caller {
  sessionKey: string;
  agentId: string;
  sessionVisibility?: SessionVisibility;
}

/**
 * Whether `key` is visible. `tree` is the current session, or every session of the agent when called
 * from its main session (this gateway has no spawned sessions to add).
 */
export function sessionVisible(key: string, caller: Caller): boolean {
  const visibility = caller.sessionVisibility;
  if (!visibility || visibility === "all" || key === caller.sessionKey) return true;
  const sameAgent = canonicalSessionKey(key, caller.agentId).agentId === caller.agentId;
  if (visibility === "agent") return sameAgent;
  return visibility === "tree" && sameAgent && caller.sessionKey === mainSessionKey(caller.agentId);
}

/** Refuses a session outside the caller's visibility with a message the model (and the log) can read. */
export function requireSessionVisible(key: string, caller: Caller): void {
  if (sessionVisible(key, caller)) return;
  throw new ToolInputError(
    `session ${key} is not visible to this run (tools.sessions.visibility is "${caller.sessionVisibility}")`,
    403,
  );
}
