/**
 * Who a `/v1/*` request talks to: the agent its `model` names (`openclaw`, `openclaw/<agentId>`, ...),
 * the session (`x-openclaw-session-key`, the OpenAI `user`, or a fresh one), and an optional backend
 * model override (`x-openclaw-model`, an owner-level control).
 *
 * @module
 */
import type { AgentRuntime } from "../../agents/runtime.ts";
import { assertCallerSessionKey, canonicalSessionKey, userSessionKey } from "../../agents/session-keys.ts";
import { GatewayError, missingScope } from "../../errors.ts";
import { scopeSatisfied } from "../../protocol/scopes.ts";
import type { CallerIdentity } from "../../types.ts";

/** Where a request runs. */
export interface HttpTarget {
  agentId: string;
  sessionKey: string;
  /** True when nobody can address the session again (no key header, no `user`). */
  ephemeral: boolean;
  /** A `provider/model` override from `x-openclaw-model`. */
  model?: string;
}

/**
 * The reference's answer to a `model` that names no agent. A provider model (`local/scripted-1`,
 * `gpt-4o`) is chosen with the `x-openclaw-model` header, not here.
 */
export const INVALID_MODEL_MESSAGE = "Invalid `model`. Use `openclaw` or `openclaw/<agentId>`.";

/** The agent id a `model` field names (`openclaw`, `openclaw/default`, `openclaw/<id>`, `agent:<id>`). */
export function agentIdFromModel(model: string | undefined, defaultAgentId: string): string {
  const raw = model?.trim();
  if (!raw || /^openclaw(\/default)?$/i.test(raw)) return defaultAgentId;
  const match = /^(?:openclaw[/:]|agent:)([a-z0-9][a-z0-9_-]{0,63})$/i.exec(raw);
  if (!match) throw new GatewayError("INVALID_REQUEST", INVALID_MODEL_MESSAGE, { details: { model: raw } });
  return match[1];
}

/** Resolves the agent, session and model override; unknown agents and reserved keys are 400s. */
export function resolveTarget(
  runtime: AgentRuntime,
  request: Request,
  caller: CallerIdentity,
  model: string | undefined,
  user: string | undefined,
  newId: () => string,
): HttpTarget {
  const agents = runtime.agents();
  const headerAgent = request.headers.get("x-openclaw-agent-id")?.trim();
  const agentId = headerAgent || agentIdFromModel(model, agents.defaultAgentId);
  agents.get(agentId);
  const target: HttpTarget = { agentId, sessionKey: "", ephemeral: false };
  const headerKey = request.headers.get("x-openclaw-session-key")?.trim();
  if (headerKey) {
    const session = canonicalSessionKey(headerKey, agentId);
    assertCallerSessionKey(session);
    agents.get(session.agentId);
    target.agentId = session.agentId;
    target.sessionKey = session.key;
  } else if (user) {
    target.sessionKey = userSessionKey(agentId, user);
  } else {
    target.sessionKey = `agent:${agentId}:openai:${newId()}`;
    target.ephemeral = true;
  }
  const override = request.headers.get("x-openclaw-model")?.trim();
  if (override) {
    // Shared-secret callers hold admin; identity-bearing callers must have been granted it.
    if (!scopeSatisfied(caller.scopes, "operator.admin")) throw missingScope("operator.admin");
    target.model = override;
  }
  return target;
}
