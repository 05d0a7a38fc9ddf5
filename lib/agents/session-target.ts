/**
 * Which session a call names: its key made canonical, else the agent's main session. Shared by the run and
 * session methods, channels and tools.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";
import type { AgentCatalog } from "./catalog.ts";
import type { AgentRuntime } from "./runtime.ts";
import {
  assertCallerSessionKey,
  canonicalSessionKey,
  mainSessionKey,
  type SessionTarget,
} from "./session-keys.ts";

/** Resolves the session a WS call names: its key, else the agent's main session. */
export function targetSession(
  runtime: AgentRuntime,
  sessionKey: string | undefined,
  agentId: string | undefined,
): SessionTarget {
  return sessionTargetIn(runtime.agents(), sessionKey, agentId);
}

/** {@link targetSession} against a given set of agents. */
export function sessionTargetIn(
  agents: AgentCatalog,
  sessionKey: string | undefined,
  agentId: string | undefined,
): SessionTarget {
  const fallbackAgent = agentId ?? agents.defaultAgentId;
  const target = sessionKey
    ? canonicalSessionKey(sessionKey, fallbackAgent)
    : { agentId: fallbackAgent, key: mainSessionKey(fallbackAgent) };
  if (agentId && target.agentId !== agentId) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `session '${target.key}' belongs to agent '${target.agentId}', not '${agentId}'`,
    );
  }
  agents.get(target.agentId);
  assertCallerSessionKey(target);
  return target;
}
