/**
 * The agent and session reads OpenClaw's Control UI makes when it opens chat and its Agents and Sessions
 * pages: `agents.list`, `agent.identity.get`, `chat.startup`, `chat.metadata`, `sessions.describe`,
 * `models.authStatus`, and the per-session panels this gateway has no feature behind (branches,
 * companion, observer, progress card), which answer their truthful empty state.
 *
 * @module
 */
import * as z from "zod";
import { type AnyMethod, defineMethod, type ValidatedCall } from "../methods/descriptor.ts";
import type { GatewayContext } from "../types.ts";
import type { SessionEntry } from "../state/sessions.ts";
import { sessionRow, splitModelRef } from "./rows.ts";
import type { AgentRuntime } from "./runtime.ts";
import { targetSession } from "./session-target.ts";

const AgentRef = z.strictObject({ agentId: z.string().min(1).optional(), sessionKey: z.string().optional() });
const SessionRef = z.strictObject({ sessionKey: z.string().min(1), agentId: z.string().min(1).optional() });

const DescribeParams = z.strictObject({
  key: z.string().min(1),
  // Not in the protocol's schema; this gateway's own clients name the agent of a short key with it.
  agentId: z.string().min(1).optional(),
  includeDerivedTitles: z.boolean().optional(),
  includeLastMessage: z.boolean().optional(),
});

/** How long a title derived from the first message may be. */
const DERIVED_TITLE_LENGTH = 60;

/** The session's first user line, cut to a title's length; none before the first message. */
async function firstUserLine(runtime: AgentRuntime, entry: SessionEntry): Promise<string | undefined> {
  const first = (await runtime.transcript(entry)).find((line) => line.role === "user");
  const text = first?.content.replace(/\s+/g, " ").trim();
  if (!text) return undefined;
  return text.length > DERIVED_TITLE_LENGTH ? `${text.slice(0, DERIVED_TITLE_LENGTH - 1)}…` : text;
}

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
      handler: async ({ params }) => {
        const agentId = agentOf(params.sessionKey, params.agentId);
        if (!params.sessionKey) return metadata(runtime, agentId);
        const key = targetSession(runtime, params.sessionKey, params.agentId).key;
        return metadata(runtime, agentId, await runtime.session(key));
      },
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
        const entry = await runtime.session(resolved.key);
        const active = runtime.runs.active(resolved.key).map((run) => run.runId);
        return {
          ...history,
          // The reference's startup carries the session's whole row; history's own fields stay on top.
          ...(entry
            ? {
              sessionInfo: {
                ...sessionRow(entry, active.length > 0, active),
                ...(history.sessionInfo as Record<string, unknown>),
              },
            }
            : {}),
          defaults: splitModelRef(runtime.agents().get(resolved.agentId).model),
          metadata: metadata(runtime, resolved.agentId, entry),
          resolution: { ok: true, key: resolved.key, agentId: resolved.agentId },
        };
      },
    }),
    defineMethod({
      name: "sessions.describe",
      scope: "operator.read",
      params: DescribeParams,
      handler: async ({ params }) => {
        const target = targetSession(runtime, params.key, params.agentId);
        const entry = await runtime.session(target.key);
        if (!entry) return { session: null };
        const active = runtime.runs.active(target.key).map((run) => run.runId);
        const row: Record<string, unknown> = { ...sessionRow(entry, active.length > 0, active) };
        if (params.includeDerivedTitles) {
          const title = entry.label ?? entry.displayName ?? await firstUserLine(runtime, entry);
          if (title) row.derivedTitle = title;
        }
        // The preview is part of every row here; a caller that did not ask for it does not get it.
        if (!params.includeLastMessage) delete row.lastMessagePreview;
        return { session: row };
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
    ...emptyPanelMethods(),
  ];
}

/** The per-session panels this gateway has no feature behind, each answering its truthful empty state. */
function emptyPanelMethods(): AnyMethod[] {
  return [
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

/**
 * What chat shows about an agent, or about one of its sessions: the model its next turn runs on (the
 * session's own choice first), the models configured to pick from, and the reference's flags, each at
 * this gateway's truthful value: no slash commands in chat, no swarm, no sign-in accounts to choose.
 */
function metadata(runtime: AgentRuntime, agentId: string, session?: SessionEntry): Record<string, unknown> {
  const agent = runtime.agents().get(agentId);
  const result: Record<string, unknown> = {
    agentId: agent.id,
    ...splitModelRef(session?.modelOverride ?? agent.model),
    models: runtime.providers().configuredModels().map((m) => ({
      id: m.id,
      name: m.name ?? m.id,
      provider: m.provider,
    })),
    commands: [],
    swarmEnabled: false,
    accountSelection: { kind: "automatic", label: "Automatic account selection" },
  };
  if (session) result.runtimeSelectionLocked = false;
  return result;
}
