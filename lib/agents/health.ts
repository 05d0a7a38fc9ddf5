/**
 * What the agents feature adds to the gateway's reports, in the reference's shapes: the health snapshot's
 * `defaultAgentId`, `agents` and `sessions`; the `sessions` summary of `status`; and
 * `hello-ok.snapshot.sessionDefaults`.
 *
 * @module
 */
import type { SessionEntry } from "../state/sessions.ts";
import type { AgentCatalog } from "./catalog.ts";
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

function summarize(sessions: readonly SessionEntry[], now: number): SessionsSummary {
  const recent = [...sessions].sort((a, b) => b.updatedAt - a.updatedAt).slice(0, RECENT_SESSIONS);
  return {
    path: SESSIONS_LOCATION,
    count: sessions.length,
    recent: recent.map((s) => ({
      key: s.key,
      updatedAt: s.updatedAt || null,
      age: s.updatedAt ? Math.max(0, now - s.updatedAt) : null,
    })),
  };
}

/**
 * The heartbeat block of a health row. This gateway has no heartbeat runner: every agent reports the
 * reference's disabled state (the runner, once there, reports its own).
 */
function heartbeatOff() {
  return { enabled: false, every: "disabled", everyMs: null, prompt: "", target: "owner", ackMaxChars: 300 };
}

/** The health snapshot's agent keys: the default agent, one row per agent, the default agent's sessions. */
export function agentsHealth(catalog: AgentCatalog, sessions: readonly SessionEntry[], now: number) {
  const agents = catalog.agents.map((agent) => ({
    agentId: agent.id,
    ...(agent.name !== agent.id ? { name: agent.name } : {}),
    isDefault: agent.id === catalog.defaultAgentId,
    heartbeat: heartbeatOff(),
    sessions: summarize(sessions.filter((s) => s.agentId === agent.id), now),
  }));
  const main = agents.find((agent) => agent.isDefault)!;
  return { defaultAgentId: catalog.defaultAgentId, agents, sessions: main.sessions };
}

/**
 * The `sessions` block of `status`: every session, the default model (its id, as the reference names it),
 * the most recent sessions with their agent, id and model, and the summary per agent.
 */
export function statusSessions(catalog: AgentCatalog, sessions: readonly SessionEntry[], now: number) {
  const all = summarize(sessions, now);
  const byKey = new Map(sessions.map((s) => [s.key, s]));
  return {
    paths: [SESSIONS_LOCATION],
    count: all.count,
    defaults: { model: splitModelRef(catalog.get().model).model },
    recent: all.recent.map((row) => {
      const entry = byKey.get(row.key)!;
      return {
        agentId: entry.agentId,
        ...row,
        kind: "direct",
        sessionId: entry.sessionId,
        ...(entry.model ? { model: splitModelRef(entry.model).model } : {}),
      };
    }),
    byAgent: catalog.agents.map((agent) => ({
      agentId: agent.id,
      ...summarize(sessions.filter((s) => s.agentId === agent.id), now),
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
