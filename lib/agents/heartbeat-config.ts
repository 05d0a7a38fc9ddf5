/**
 * Which agents beat, how often, with what prompt and where their turns run: `agents.defaults.heartbeat`
 * merged under each entry's own `heartbeat`, enrolled as OpenClaw enrolls them. Also the per-agent
 * heartbeat block of the health snapshot and its `heartbeatSeconds`.
 *
 * @module
 */
import { parseDurationMs } from "../config/duration.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { AgentsSection, HeartbeatActiveHours, HeartbeatConfig } from "../config/sections/agents.ts";
import type { AgentCatalog } from "./catalog.ts";
import { canonicalSessionKey, mainSessionKey } from "./session-keys.ts";

/** OpenClaw's default heartbeat prompt: its health snapshot shows it, and models are trained on it. */
export const HEARTBEAT_PROMPT =
  "Follow the heartbeat monitor scratch context when provided. Recurring tasks are automations; create or " +
  "change their schedules with the automations tool, not heartbeat scratch. Do not infer or repeat old " +
  "tasks from prior chats. If nothing needs attention, reply NO_REPLY.";
/** The cadence when `every` is unset. */
export const DEFAULT_HEARTBEAT_EVERY = "30m";
/** Where alerts go when `target` is unset. */
export const DEFAULT_HEARTBEAT_TARGET = "owner";
/** An acknowledgement may carry this many characters besides `HEARTBEAT_OK` when `ackMaxChars` is unset. */
export const DEFAULT_ACK_MAX_CHARS = 300;
/** Without a configured timeout, a turn may take its cadence, but never more than this. */
const MAX_DEFAULT_TIMEOUT_MS = 600_000;

/** One enrolled agent's heartbeat, resolved. */
export interface HeartbeatPlan {
  /** The agent that beats. */
  agentId: string;
  /** The cadence as configured (`30m`). */
  every: string;
  /** The cadence in milliseconds (never 0: a zero cadence is no plan). */
  everyMs: number;
  /** The user message of each turn. */
  prompt: string;
  /** `owner`, `last`, `none`, or a channel id. */
  target: string;
  /** The recipient for a channel target. */
  to?: string;
  /** A `provider/model` for these turns. */
  model?: string;
  /** The full key of the session the turns run in. */
  sessionKey: string;
  /** Characters an acknowledgement may carry besides `HEARTBEAT_OK`. */
  ackMaxChars: number;
  /** A turn is aborted after this long. */
  timeoutMs: number;
  /** The daily window outside which due heartbeats are skipped. */
  activeHours?: HeartbeatActiveHours;
}

/** The heartbeat block of an agent in the health snapshot (`health.agents[].heartbeat`). */
export interface HeartbeatSummary {
  /** Whether the agent beats. */
  enabled: boolean;
  /** The cadence, or `disabled`. */
  every: string;
  /** The cadence in milliseconds, `null` when disabled. */
  everyMs: number | null;
  /** The prompt its turns send. */
  prompt: string;
  /** Where alerts go. */
  target: string;
  /** The model override, when set. */
  model?: string;
  /** The session override, as configured. */
  session?: string;
  /** Characters an acknowledgement may carry besides `HEARTBEAT_OK`. */
  ackMaxChars: number;
}

/** The plans of every agent whose heartbeat is on, in catalog order. */
export function heartbeatPlans(config: GatewayConfig, catalog: AgentCatalog): HeartbeatPlan[] {
  const enrolled = enrolledAgentIds(config.agents, catalog);
  const plans: HeartbeatPlan[] = [];
  for (const agent of catalog.agents) {
    if (!enrolled.has(agent.id)) continue;
    const merged = mergedHeartbeat(config.agents, agent.id) ?? {};
    const every = merged.every ?? DEFAULT_HEARTBEAT_EVERY;
    const everyMs = parseDurationMs(every, "m");
    if (!everyMs) continue;
    const configuredTimeout = merged.timeoutSeconds ?? config.agents?.defaults?.timeoutSeconds;
    plans.push({
      agentId: agent.id,
      every,
      everyMs,
      prompt: merged.prompt?.trim() || HEARTBEAT_PROMPT,
      target: merged.target ?? DEFAULT_HEARTBEAT_TARGET,
      ...(merged.to ? { to: merged.to } : {}),
      ...(merged.model ? { model: merged.model } : {}),
      sessionKey: merged.session
        ? canonicalSessionKey(merged.session, agent.id).key
        : mainSessionKey(agent.id),
      ackMaxChars: merged.ackMaxChars ?? DEFAULT_ACK_MAX_CHARS,
      timeoutMs: configuredTimeout ? configuredTimeout * 1000 : Math.min(everyMs, MAX_DEFAULT_TIMEOUT_MS),
      ...(merged.activeHours ? { activeHours: merged.activeHours } : {}),
    });
  }
  return plans;
}

/** The health snapshot's heartbeat block for one agent. */
export function heartbeatSummary(
  config: GatewayConfig,
  catalog: AgentCatalog,
  agentId: string,
): HeartbeatSummary {
  const merged = mergedHeartbeat(config.agents, agentId);
  const plan = heartbeatPlans(config, catalog).find((p) => p.agentId === agentId);
  const summary: HeartbeatSummary = {
    enabled: plan !== undefined,
    every: plan?.every ?? "disabled",
    everyMs: plan?.everyMs ?? null,
    prompt: merged?.prompt?.trim() || HEARTBEAT_PROMPT,
    target: merged?.target ?? DEFAULT_HEARTBEAT_TARGET,
    ackMaxChars: merged?.ackMaxChars ?? DEFAULT_ACK_MAX_CHARS,
  };
  if (merged?.model) summary.model = merged.model;
  if (merged?.session) summary.session = merged.session;
  return summary;
}

/**
 * `health.heartbeatSeconds`: the cadence of the beating agent `agents.defaults.heartbeat.agentId` names,
 * else of the first beating agent; 0 when none beats.
 */
export function heartbeatSeconds(config: GatewayConfig, catalog: AgentCatalog): number {
  const plans = heartbeatPlans(config, catalog);
  const named = config.agents?.defaults?.heartbeat?.agentId;
  const plan = plans.find((p) => p.agentId === named) ?? plans[0];
  return plan ? Math.round(plan.everyMs / 1000) : 0;
}

function mergedHeartbeat(section: AgentsSection | undefined, agentId: string): HeartbeatConfig | undefined {
  const defaults = section?.defaults?.heartbeat;
  const own = section?.entries?.[agentId]?.heartbeat;
  return defaults || own ? { ...defaults, ...own } : undefined;
}

/**
 * Entries with a block of their own, else the agent `defaults.heartbeat.agentId` names, else every agent
 * when the defaults have a block, else the one agent that owns ambient work: the entry marked `default`
 * or the only agent. A roster of several agents with none of these has no heartbeat.
 */
function enrolledAgentIds(section: AgentsSection | undefined, catalog: AgentCatalog): Set<string> {
  const entries = Object.entries(section?.entries ?? {});
  const explicit = entries.filter(([, entry]) => entry.heartbeat).map(([id]) => id);
  if (explicit.length) return new Set(explicit);
  const named = section?.defaults?.heartbeat?.agentId;
  if (named) {
    return new Set(catalog.agents.filter((a) => a.id.toLowerCase() === named.toLowerCase()).map((a) => a.id));
  }
  if (section?.defaults?.heartbeat) return new Set(catalog.agents.map((a) => a.id));
  const ambient = entries.find(([, entry]) => entry.default)?.[0] ??
    (catalog.agents.length === 1 ? catalog.agents[0].id : undefined);
  return new Set(ambient ? [ambient] : []);
}
