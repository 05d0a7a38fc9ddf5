/**
 * The agent and session reads OpenClaw's Control UI makes when it opens chat and its Agents and Sessions
 * pages: `agents.list`, `agent.identity.get`, `chat.startup`, `chat.metadata`, `sessions.describe`,
 * `models.authStatus`, and the per-session panels this gateway has no feature behind (branches,
 * companion, observer, progress card), which answer their truthful empty state.
 *
 * @module
 */
import { z } from "zod";
import { type AnyMethod, defineMethod, type ValidatedCall } from "../methods/descriptor.ts";
import type { GatewayContext } from "../types.ts";
import { sessionRow } from "./rows.ts";
import type { AgentRuntime } from "./runtime.ts";
import { targetSession } from "./session-target.ts";

const AgentRef = z.strictObject({ agentId: z.string().min(1).optional(), sessionKey: z.string().optional() });
const SessionRef = z.strictObject({ sessionKey: z.string().min(1), agentId: z.string().min(1).optional() });

const ChatStartupParams = z.looseObject({
  sessionKey: z.string().min(1).optional(),
  agentId: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
});

/** The UI's agent and session reads; `chatHistory` is the registered `chat.history` they build on. */
export function agentUiMethods(
  context: GatewayContext,
  runtime: AgentRuntime,
  chatHistory: AnyMethod,
): AnyMethod[] {
  const agentOf = (sessionKey: string | undefined, agentId: string | undefined) =>
    sessionKey ? targetSession(runtime, sessionKey, agentId).agentId : runtime.agents().get(agentId).id;
  return [
    defineMethod({
      name: "agents.list",
      scope: "operator.read",
      params: z.strictObject({}),
      handler: () => {
        const catalog = runtime.agents();
        return {
          defaultId: catalog.defaultAgentId,
          mainKey: "main",
          scope: "per-sender",
          agents: catalog.agents.map((agent) => ({
            id: agent.id,
            kind: "agent",
            name: agent.name,
            model: { primary: agent.model },
          })),
        };
      },
    }),
    defineMethod({
      name: "agent.identity.get",
      scope: "operator.read",
      params: AgentRef,
      handler: ({ params }) => {
        const agent = runtime.agents().get(agentOf(params.sessionKey, params.agentId));
        // A name from the agent's config entry or `ui.assistant.name` is the config's; else the id stands in.
        const name = context.config().ui?.assistant?.name ?? agent.name;
        return { agentId: agent.id, name, nameSource: name === agent.id ? "default" : "config" };
      },
    }),
    defineMethod({
      name: "chat.metadata",
      scope: "operator.read",
      params: z.strictObject({
        agentId: z.string().min(1).optional(),
        sessionKey: z.string().min(1).optional(),
      }),
      handler: ({ params }) => metadata(runtime, agentOf(params.sessionKey, params.agentId)),
    }),
    defineMethod({
      name: "chat.startup",
      scope: "operator.read",
      params: ChatStartupParams,
      handler: async (call: ValidatedCall<z.infer<typeof ChatStartupParams>>) => {
        const agentId = runtime.agents().get(call.params.agentId).id;
        const sessionKey = call.params.sessionKey ?? `agent:${agentId}:main`;
        const history = await chatHistory.handler({
          ...call,
          params: { sessionKey, agentId: call.params.agentId, limit: call.params.limit },
        }) as Record<string, unknown>;
        const resolved = targetSession(runtime, sessionKey, call.params.agentId);
        return {
          ...history,
          metadata: metadata(runtime, resolved.agentId),
          resolution: { ok: true, key: resolved.key, agentId: resolved.agentId },
        };
      },
    }),
    defineMethod({
      name: "sessions.describe",
      scope: "operator.read",
      params: z.looseObject({ key: z.string().min(1), agentId: z.string().min(1).optional() }),
      handler: async ({ params }) => {
        const target = targetSession(runtime, params.key, params.agentId);
        const entry = await runtime.session(target.key);
        return { session: entry ? sessionRow(entry, runtime.runs.active(target.key).length > 0) : null };
      },
    }),
    defineMethod({
      name: "models.authStatus",
      scope: "operator.read",
      params: z.strictObject({ refresh: z.boolean().optional(), agentId: z.string().optional() }),
      // Providers here authenticate with a key from config or the environment, or need none (local):
      // there are no sign-in profiles to list.
      handler: () => ({
        ts: context.now(),
        providers: runtime.providers().ids().map((id) => ({
          provider: id,
          authProvider: id,
          displayName: id,
          status: "static",
          profiles: [],
        })),
      }),
    }),
    defineMethod({
      name: "sessions.branches.list",
      scope: "operator.read",
      params: SessionRef,
      handler: () => ({ branches: [] }),
    }),
    defineMethod({
      name: "sessions.companion.state",
      scope: "operator.read",
      params: SessionRef,
      handler: () => ({ exchanges: [] }),
    }),
    defineMethod({
      name: "sessions.observer.visibility",
      scope: "operator.read",
      params: z.strictObject({ visible: z.boolean() }),
      handler: () => ({ ok: true as const }),
    }),
    defineMethod({
      name: "progressCard.get",
      scope: "operator.read",
      params: z.strictObject({ sessionKey: z.string().min(1) }),
      handler: () => ({ card: null }),
    }),
  ];
}

/** What chat shows about an agent: its model, from the catalog. */
function metadata(runtime: AgentRuntime, agentId: string): Record<string, unknown> {
  const agent = runtime.agents().get(agentId);
  const slash = agent.model.indexOf("/");
  return {
    agentId: agent.id,
    modelProvider: agent.model.slice(0, slash),
    model: agent.model.slice(slash + 1),
  };
}
