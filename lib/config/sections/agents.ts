/**
 * The `agents` section of `openclaw.json`: defaults every agent inherits and per-agent entries
 * (`agents.entries.<agentId>`), named as OpenClaw names them. Unknown keys are kept.
 *
 * @module
 */
import { z } from "zod";
import { type ToolPolicy, ToolPolicySchema } from "./tools.ts";

/** `model` as OpenClaw accepts it: a `provider/model` string or `{ primary, fallbacks }`. */
export type AgentModelConfig = string | { primary?: string; fallbacks?: string[]; [key: string]: unknown };

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
  defaults?: AgentSettings;
  /** The configured agents, keyed by agent id. */
  entries?: Record<string, AgentEntryConfig>;
  /** Keys OpenClaw knows that this gateway does not use; kept so a shared config loads. */
  [key: string]: unknown;
}

const AgentModelSchema = z.union([
  z.string().min(1),
  z.looseObject({ primary: z.string().min(1).optional(), fallbacks: z.array(z.string()).optional() }),
]);

const settingsShape = {
  model: AgentModelSchema.optional(),
  embeddingModel: z.string().min(1).optional(),
  maxConcurrent: z.number().int().positive().optional(),
  timeoutSeconds: z.number().positive().optional(),
  systemPrompt: z.string().optional(),
  tools: ToolPolicySchema.optional(),
};

/** Validates the `agents` section. */
export const AgentsSectionSchema: z.ZodType<AgentsSection> = z.looseObject({
  defaults: z.looseObject(settingsShape).optional(),
  entries: z.record(
    z.string().min(1),
    z.looseObject({ ...settingsShape, name: z.string().optional(), default: z.boolean().optional() }),
  ).optional(),
});
