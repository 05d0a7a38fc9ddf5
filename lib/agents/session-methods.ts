/**
 * The WS methods that read and reset sessions: `chat.history`, `sessions.list`, `sessions.get`,
 * `sessions.reset`, and the model catalog, `models.list`.
 *
 * @module
 */
import * as z from "zod";
import { GatewayError } from "../errors.ts";
import { type AnyMethod, defineMethod, ignoredParams } from "../methods/descriptor.ts";
import type { GatewayContext } from "../types.ts";
import { visibleHistory } from "./heartbeat-history.ts";
import { publishSessionsChanged } from "./run-events.ts";
import type { SessionEntry } from "../state/sessions.ts";
import { historyMessage, sessionRow, splitModelRef } from "./rows.ts";
import type { AgentRuntime } from "./runtime.ts";
import { targetSession } from "./session-target.ts";

/** `chat.history` returns this many lines unless the caller sets `limit`. */
export const DEFAULT_HISTORY_LIMIT = 200;
/** `sessions.list` returns this many rows unless the caller sets `limit`. */
export const DEFAULT_SESSIONS_LIMIT = 100;

// Strict, as the reference's schemas are. The fields this gateway does not serve (cursors, filters, views;
// those of the published schema and those the 2026.9.6 gateway added) are accepted and ignored, so a
// client's real fields pass and a typo is refused.
const ChatHistoryParams = z.strictObject({
  sessionKey: z.string().min(1),
  agentId: z.string().min(1).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
  offset: z.number().int().nonnegative().optional(),
  ...ignoredParams(
    "cursor",
    "pendingBefore",
    "inputRunIds",
    "messageId",
    "sessionId",
    "maxChars",
    "maxBytes",
  ),
});

const SessionsListParams = z.strictObject({
  limit: z.number().int().min(1).optional(),
  offset: z.number().int().nonnegative().optional(),
  agentId: z.string().min(1).optional(),
  search: z.string().optional(),
  label: z.string().min(1).max(512).optional(),
  // Live sessions by default, as the reference lists them; `true` for the archived ones, `all` for both.
  archived: z.union([z.boolean(), z.literal("all")]).optional(),
  ...ignoredParams(
    "activeMinutes",
    "requireLastInteraction",
    "sortBy",
    "includeGlobal",
    "includeUnknown",
    "configuredAgentsOnly",
    "includeDerivedTitles",
    "includeLastMessage",
    "boardFace",
    "creatorId",
    "ownerId",
    "ownerFirst",
    "involvingMe",
    "involvingProfileId",
    "includePeople",
    "spawnedBy",
    "activeOnly",
    "excludeSubagents",
    "excludeCron",
    "excludeSystem",
    "includeActivitySummary",
    "projectId",
    "workspaceDir",
    "group",
    "pinned",
    "hasBoard",
    "profileRelation",
  ),
});

const sessionKey = { key: z.string().min(1), agentId: z.string().min(1).optional() };

// The protocol has no `sessions.get` params schema to follow: it stays open.
const SessionsGetParams = z.looseObject(sessionKey);

const SessionsResetParams = z.strictObject({
  ...sessionKey,
  reason: z.enum(["new", "reset"]).optional(),
  ...ignoredParams("expectedSessionId"),
});

const ModelsListParams = z.strictObject({
  agentId: z.string().min(1).optional(),
  ...ignoredParams(
    "sessionKey",
    "authProfileId",
    "provider",
    "includeDetails",
    "includeProviderCapabilities",
    "includeDefaultModels",
    "preparedOnly",
    "refresh",
    "view",
  ),
});

const SessionRow = z.object({ key: z.string() });

/** The session and model read methods, and `sessions.reset`. */
export function sessionMethods(
  context: GatewayContext,
  runtime: AgentRuntime,
): AnyMethod[] {
  const rowOf = (entry: SessionEntry) => {
    const active = runtime.runs.active(entry.key).map((run) => run.runId);
    return sessionRow(entry, active.length > 0, active);
  };

  const chatHistory = defineMethod({
    name: "chat.history",
    scope: "operator.read",
    params: ChatHistoryParams,
    result: z.object({ sessionKey: z.string(), messages: z.array(z.unknown()), hasMore: z.boolean() }),
    handler: async ({ params }) => {
      const target = targetSession(runtime, params.sessionKey, params.agentId);
      const entry = await runtime.session(target.key);
      const lines = visibleHistory(
        entry ? await runtime.transcript(entry) : [],
        context.config(),
        target.agentId,
      );
      // Offsets count back from the newest line, so a client pages towards older history.
      const limit = params.limit ?? DEFAULT_HISTORY_LIMIT;
      const offset = params.offset ?? 0;
      const end = Math.max(lines.length - offset, 0);
      const start = Math.max(end - limit, 0);
      const active = runtime.runs.active(target.key);
      return {
        sessionKey: target.key,
        sessionId: entry?.sessionId,
        messages: lines.slice(start, end).map(historyMessage),
        hasMore: start > 0,
        nextOffset: start > 0 ? offset + (end - start) : null,
        sessionInfo: {
          key: target.key,
          agentId: target.agentId,
          sessionId: entry?.sessionId,
          hasActiveRun: active.length > 0,
          activeRunIds: active.map((r) => r.runId),
        },
      };
    },
  });

  const sessionsList = defineMethod({
    name: "sessions.list",
    scope: "operator.read",
    params: SessionsListParams,
    result: z.object({ count: z.number(), sessions: z.array(SessionRow) }),
    handler: async ({ params }) => {
      const search = params.search?.toLowerCase();
      const archived = params.archived ?? false;
      const all = (await runtime.listSessions())
        .filter((s) => !params.agentId || s.agentId === params.agentId)
        .filter((s) => archived === "all" || (s.archivedAt !== undefined) === archived)
        .filter((s) => !params.label || s.label === params.label)
        .filter((s) =>
          !search || [s.key, s.label, s.displayName].some((t) => t?.toLowerCase().includes(search))
        )
        .sort((a, b) => b.updatedAt - a.updatedAt);
      const limit = params.limit ?? DEFAULT_SESSIONS_LIMIT;
      const offset = params.offset ?? 0;
      const page = all.slice(offset, offset + limit);
      const hasMore = offset + page.length < all.length;
      const agent = runtime.agents().get();
      return {
        ts: context.now(),
        path: "(multiple)",
        count: page.length,
        totalCount: all.length,
        limitApplied: limit,
        nextOffset: hasMore ? offset + page.length : null,
        hasMore,
        owners: [],
        defaults: splitModelRef(agent.model),
        sessions: page.map(rowOf),
      };
    },
  });

  const sessionsGet = defineMethod({
    name: "sessions.get",
    scope: "operator.read",
    params: SessionsGetParams,
    result: z.object({ key: z.string(), session: SessionRow }),
    handler: async ({ params }) => {
      const target = targetSession(runtime, params.key, params.agentId);
      const entry = await runtime.session(target.key);
      if (!entry) {
        throw new GatewayError("NOT_FOUND", `no session '${target.key}'`, { details: { key: target.key } });
      }
      return { key: target.key, session: rowOf(entry) };
    },
  });

  const sessionsReset = defineMethod({
    name: "sessions.reset",
    scope: "operator.admin",
    params: SessionsResetParams,
    result: z.object({ ok: z.literal(true), key: z.string(), entry: SessionRow }),
    handler: async ({ params }) => {
      const target = targetSession(runtime, params.key, params.agentId);
      const entry = await runtime.resetSession(target.key, target.agentId);
      publishSessionsChanged(context.bus, target.key, params.reason ?? "reset", context.now());
      return { ok: true as const, key: target.key, entry: sessionRow(entry, false) };
    },
  });

  const modelsList = defineMethod({
    name: "models.list",
    scope: "operator.read",
    params: ModelsListParams,
    result: z.object({
      models: z.array(z.object({ id: z.string(), name: z.string(), provider: z.string() })),
    }),
    handler: async (call) => {
      const providers = runtime.providers();
      const local = providers.get("local");
      const localModels = local ? await local.listModels(call.signal) : [];
      const rows = [
        ...localModels.map((m) => ({ ...m, provider: "local" })),
        ...providers.configuredModels(),
      ];
      return {
        models: rows.map((m) => {
          const choice: Record<string, unknown> & { id: string; name: string; provider: string } = {
            id: m.id,
            name: m.name ?? m.id,
            provider: m.provider,
          };
          if (m.contextWindow) choice.contextWindow = Math.round(m.contextWindow);
          // A model is a reasoning model only where its config says so, as the reference reads it.
          choice.reasoning = m.reasoning ?? false;
          if (m.provider === "local") choice.tags = ["local", m.kind ?? "chat"];
          choice.available = !providers.missingKey(m.provider);
          if (!choice.available) choice.unavailableReason = "missing-auth";
          return choice;
        }),
      };
    },
  });

  return [chatHistory, sessionsList, sessionsGet, sessionsReset, modelsList];
}
