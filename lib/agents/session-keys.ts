/**
 * Session keys as OpenClaw writes them: `agent:<agentId>:<rest>`, with `agent:<agentId>:main` as the
 * agent's main session. Short forms (`main`, `my-thread`) are scoped to the agent they are sent to.
 *
 * @module
 */
import { GatewayError } from "../errors.ts";

/** Namespaces only the gateway itself may create sessions in. */
export const RESERVED_SESSION_PREFIXES: readonly string[] = ["subagent:", "cron:", "acp:"];

/** A session key split into the agent it belongs to and the full key. */
export interface SessionTarget {
  agentId: string;
  key: string;
}

/** Expands `raw` to a full key; a full key names its own agent, a short one belongs to `agentId`. */
export function canonicalSessionKey(raw: string, agentId: string): SessionTarget {
  const trimmed = raw.trim();
  const match = /^agent:([^:]+):(.+)$/.exec(trimmed);
  if (match) return { agentId: match[1], key: trimmed };
  return { agentId, key: `agent:${agentId}:${trimmed}` };
}

/** The agent's main session. */
export function mainSessionKey(agentId: string): string {
  return `agent:${agentId}:main`;
}

/** Refuses caller-supplied keys in a reserved namespace, naming the rule. */
export function assertCallerSessionKey(target: SessionTarget): void {
  const rest = target.key.slice(`agent:${target.agentId}:`.length);
  const reserved = RESERVED_SESSION_PREFIXES.find((prefix) => rest.startsWith(prefix));
  if (reserved) {
    throw new GatewayError(
      "INVALID_REQUEST",
      `session key '${target.key}' uses the reserved namespace '${reserved}'; choose a key without it`,
    );
  }
}

/** The stable session of an OpenAI `user` string. */
export function userSessionKey(agentId: string, user: string): string {
  return `agent:${agentId}:openai-user:${user}`;
}
