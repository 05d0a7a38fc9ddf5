/**
 * What the agents feature adds to the gateway's reports, in the reference's shapes: the health snapshot's
 * `defaultAgentId`, `agents` and `sessions`; the `sessions` summary of `status`; and
 * `hello-ok.snapshot.sessionDefaults`.
 *
 * @module
 */
import type { GatewayConfig } from "../config/schema.ts";
import type { SessionEntry } from "../state/sessions.ts";
import type { AgentCatalog } from "./catalog.ts";
import { heartbeatSummary } from "./heartbeat-config.ts";
import { splitModelRef } from "./rows.ts";
import { mainSessionKey } from "./session-keys.ts";

/** How many recent sessions a summary lists, as the reference does. */
const RECENT_SESSIONS = 5;

/**
 * Where sessions live, as summaries name it: they are in the gateway's stores bundle (JSONL files,
 * Redis or memory), not in one file per agent as the reference keeps them.
 */
export const SESSIONS_LOCATION = "(gateway stores)";

/** One agent's sessions, or the default agent's: how many and the most recently updated. */
export interface SessionsSummary {
  path: string;
  count: number;
  recent: { key: string; updatedAt: number | null; age: number | null }[];
}

/**
 * The sessions as the summaries read them: newest first, in all and per agent. Built once per read of
 * the session list (see the agents module's cached list), so a `health` or `status` call neither sorts
 * nor filters the whole list again.
 */
export interface SessionsByRecency {
  /** Every session, the most recently updated first. */
  all: readonly SessionEntry[];
  /** Each agent's sessions, in the same order. */
  byAgent: ReadonlyMap<string, readonly SessionEntry[]>;
}

/** Sorts and groups `sessions` for {@link agentsHealth} and {@link statusSessions}. */
export function byRecency(sessions: readonly SessionEntry[]): SessionsByRecency {
  const all = [...sessions].sort((a, b) => b.updatedAt - a.updatedAt);
  const byAgent = new Map<string, SessionEntry[]>();
  for (const entry of all) {
    const own = byAgent.get(entry.agentId);
    if (own) own.push(entry);
    else byAgent.set(entry.agentId, [entry]);
  }
  return { all, byAgent };
}

const agentSessions = (sessions: SessionsByRecency, agentId: string) => sessions.byAgent.get(agentId) ?? [];

function recentRow(entry: SessionEntry, now: number) {
  return {
    key: entry.key,
    updatedAt: entry.updatedAt || null,
    age: entry.updatedAt ? Math.max(0, now - entry.updatedAt) : null,
  };
}

/** `newestFirst`: already sorted, as {@link byRecency} leaves them. */
function summarize(newestFirst: readonly SessionEntry[], now: number): SessionsSummary {
  return {
    path: SESSIONS_LOCATION,
    count: newestFirst.length,
    recent: newestFirst.slice(0, RECENT_SESSIONS).map((entry) => recentRow(entry, now)),
  };
}

/**
 * The health snapshot's agent keys: the default agent, one row per agent (with its heartbeat as `config`
 * plans it), the default agent's sessions.
 */
export function agentsHealth(
  config: GatewayConfig,
  catalog: AgentCatalog,
  sessions: SessionsByRecency,
  now: number,
) {
  const agents = catalog.agents.map((agent) => ({
    agentId: agent.id,
    ...(agent.name !== agent.id ? { name: agent.name } : {}),
    isDefault: agent.id === catalog.defaultAgentId,
    heartbeat: heartbeatSummary(config, catalog, agent.id),
    sessions: summarize(agentSessions(sessions, agent.id), now),
  }));
  const main = agents.find((agent) => agent.isDefault)!;
  return { defaultAgentId: catalog.defaultAgentId, agents, sessions: main.sessions };
}

/** A `status` session row: the health row with the session's agent, kind, id and model id. */
function statusRow(entry: SessionEntry, now: number) {
  return {
    agentId: entry.agentId,
    ...recentRow(entry, now),
    kind: "direct",
    sessionId: entry.sessionId,
    ...(entry.model ? { model: splitModelRef(entry.model).model } : {}),
  };
}

/** `status`'s summary of sessions (`newestFirst`): how many and the most recent, with their rows. */
function statusSummary(newestFirst: readonly SessionEntry[], now: number) {
  return {
    count: newestFirst.length,
    recent: newestFirst.slice(0, RECENT_SESSIONS).map((entry) => statusRow(entry, now)),
  };
}

/**
 * The `sessions` block of `status`: every session and each agent's, with the default model (its id, as
 * the reference names it).
 */
export function statusSessions(catalog: AgentCatalog, sessions: SessionsByRecency, now: number) {
  return {
    paths: [SESSIONS_LOCATION],
    ...statusSummary(sessions.all, now),
    defaults: { model: splitModelRef(catalog.get().model).model },
    byAgent: catalog.agents.map((agent) => ({
      agentId: agent.id,
      path: SESSIONS_LOCATION,
      ...statusSummary(agentSessions(sessions, agent.id), now),
    })),
  };
}

/**
 * `hello-ok.snapshot.sessionDefaults`. A default agent always resolves here (the entry marked `default`,
 * `main`, or the first), so no client has to pick one: `sole` when that is unambiguous, else `legacy`.
 */
export function sessionDefaults(catalog: AgentCatalog) {
  const agent = catalog.get();
  return {
    defaultAgentId: agent.id,
    modelConfigured: agent.modelConfigured,
    ownership: catalog.defaultMarked ? "sole" : "legacy",
    selectionRequired: false,
    mainKey: "main",
    mainSessionKey: mainSessionKey(agent.id),
    scope: "per-sender",
  };
}
