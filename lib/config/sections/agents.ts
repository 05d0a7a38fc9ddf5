/**
 * The `agents` section of `openclaw.json`: defaults every agent inherits and per-agent entries
 * (`agents.entries.<agentId>`), named as OpenClaw names them. Unknown keys are kept.
 *
 * @module
 */
import * as z from "zod";
import { parseDurationMs } from "../duration.ts";
import { type ToolPolicy, ToolPolicySchema } from "./tools.ts";

/** `model` as OpenClaw accepts it: a `provider/model` string or `{ primary, fallbacks }`. */
export type AgentModelConfig = string | { primary?: string; fallbacks?: string[]; [key: string]: unknown };

/**
 * Periodic agent turns (`agents.defaults.heartbeat`, `agents.entries.<id>.heartbeat`), as OpenClaw names
 * them. A per-agent block merges over the defaults; once any entry has one, only those agents beat.
 */
export interface HeartbeatConfig {
  /** Cadence as a duration (`30m`, `1h`, `45s`, `500ms`; a bare number is minutes); `0m` turns it off. */
  every?: string;
  /** The user message of each heartbeat turn, sent verbatim; OpenClaw's default prompt when unset. */
  prompt?: string;
  /** Where alerts go: `owner` (default), `last`, `none`, or a channel id (with `to`). */
  target?: string;
  /** The recipient on the channel `target` names. */
  to?: string;
  /** A `provider/model` for heartbeat turns instead of the agent's own. */
  model?: string;
  /** The session the turns run in (a short or full key); the agent's main session by default. */
  session?: string;
  /** A reply that is `HEARTBEAT_OK` plus at most this many characters is an acknowledgement (default 300). */
  ackMaxChars?: number;
  /** Seconds before a heartbeat turn is aborted; default `agents.defaults.timeoutSeconds`, else the cadence (max 600). */
  timeoutSeconds?: number;
  /** In `agents.defaults.heartbeat`: the one agent that beats when no entry has a block of its own. */
  agentId?: string;
  /** Beats only inside this daily window; outside it a due heartbeat is skipped (`quiet-hours`). */
  activeHours?: HeartbeatActiveHours;
  /** Keys OpenClaw knows that this gateway does not apply (`activeHours`, `lightContext`, ...); kept. */
  [key: string]: unknown;
}

/** A daily window, in local time of a time zone. */
export interface HeartbeatActiveHours {
  /** `HH:MM`, inclusive. */
  start: string;
  /** `HH:MM`, exclusive; `24:00` is the end of the day. A window with `end` before `start` spans midnight. */
  end: string;
  /** An IANA zone, `local` (the host's), or `user` (default: `agents.defaults.userTimezone`, else the host's). */
  timezone?: string;
}

/** Settings an agent can set for itself or inherit from `agents.defaults`. */
export interface AgentSettings {
  /** The chat model, as `provider/model` or `{ primary, fallbacks }`; the built-in local model when unset. */
  model?: AgentModelConfig;
  /** The embeddings model (`provider/model`) for `/v1/embeddings`. */
  embeddingModel?: string;
  /** Max parallel runs of this agent across sessions (each session is still serialised). */
  maxConcurrent?: number;
  /** A run is aborted after this many seconds; default 600. */
  timeoutSeconds?: number;
  /** Prepended to every turn as the system prompt. */
  systemPrompt?: string;
  /** This agent's own tool policy, applied after the top-level `tools`. */
  tools?: ToolPolicy;
  /** Periodic heartbeat turns in the agent's main session. */
  heartbeat?: HeartbeatConfig;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

/** One configured agent. */
export interface AgentEntryConfig extends AgentSettings {
  /** Display name of the agent. */
  name?: string;
  /** Marks the agent used when a request names none; otherwise `main` if configured, else the first entry. */
  default?: boolean;
}

/** The whole `agents` section. */
export interface AgentsSection {
  /** Settings every agent inherits unless its entry sets them. */
  defaults?: AgentSettings & {
    /** The IANA time zone of the agents' user, for heartbeat `activeHours`; the host's when unset. */
    userTimezone?: string;
  };
  /** The configured agents, keyed by agent id. */
  entries?: Record<string, AgentEntryConfig>;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

const AgentModelSchema = z.union([
  z.string().min(1),
  z.looseObject({ primary: z.string().min(1).optional(), fallbacks: z.array(z.string()).optional() }),
]);

/** Validates a heartbeat block: `every` must be a duration OpenClaw would accept. */
export const HeartbeatConfigSchema: z.ZodType<HeartbeatConfig> = z.looseObject({
  every: z.string().refine((value) => parseDurationMs(value, "m") !== undefined, {
    message: "expected a duration such as 30m, 1h, 45s or 0m (off)",
  }).optional(),
  prompt: z.string().optional(),
  target: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  session: z.string().min(1).optional(),
  ackMaxChars: z.number().int().nonnegative().optional(),
  timeoutSeconds: z.number().positive().optional(),
  agentId: z.string().min(1).optional(),
  activeHours: z.looseObject({
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:MM"),
    end: z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, "expected HH:MM or 24:00"),
    timezone: z.string().min(1).optional(),
  }).optional(),
});

const settingsShape = {
  model: AgentModelSchema.optional(),
  embeddingModel: z.string().min(1).optional(),
  maxConcurrent: z.number().int().positive().optional(),
  timeoutSeconds: z.number().positive().optional(),
  systemPrompt: z.string().optional(),
  tools: ToolPolicySchema.optional(),
  heartbeat: HeartbeatConfigSchema.optional(),
};

/** Validates the `agents` section. */
export const AgentsSectionSchema: z.ZodType<AgentsSection> = z.looseObject({
  defaults: z.looseObject({ ...settingsShape, userTimezone: z.string().min(1).optional() }).optional(),
  entries: z.record(
    z.string().min(1),
    z.looseObject({ ...settingsShape, name: z.string().optional(), default: z.boolean().optional() }),
  ).optional(),
});
