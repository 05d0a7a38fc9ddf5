/**
 * The agents a config defines (`agents.defaults` + `agents.entries.<agentId>`), each resolved to the
 * settings a run needs. With no entries there is one agent, `main`, so a fresh gateway can chat.
 *
 * @module
 */
import {
  type AgentEntryConfig,
  type AgentModelConfig,
  type AgentSettings,
  type AgentsSection,
  AgentsSectionSchema,
} from "../config/sections/agents.ts";
import { GatewayError } from "../errors.ts";
import { LOCAL_CHAT_MODEL, LOCAL_EMBEDDING_MODEL, LOCAL_PROVIDER_ID } from "../providers/local.ts";

/** The agent id used when the config names none. */
export const DEFAULT_AGENT_ID = "main";
/** Parallel runs per agent when the config sets no `maxConcurrent`. */
export const DEFAULT_MAX_CONCURRENT = 8;
/** A run gives up after ten minutes unless `timeoutSeconds` says otherwise. */
export const DEFAULT_RUN_TIMEOUT_MS = 600_000;

/** An agent with its defaults applied. */
export interface ResolvedAgent {
  /** The key of its `agents.entries` entry (`main` when the config defines none); session keys name it. */
  id: string;
  /** The display name from the config, or the id when it sets none. */
  name: string;
  /** `provider/model` of the primary model. */
  model: string;
  /** Whether the config names that model (else it is the built-in local one by default). */
  modelConfigured: boolean;
  /** `provider/model` that computes embeddings for it; the built-in local embedding model by default. */
  embeddingModel: string;
  /** How many of its runs may run at once; further runs wait their turn (default 8). */
  maxConcurrent: number;
  /** How long one run may take before it is aborted as timed out, in ms (default 600 000, ten minutes). */
  timeoutMs: number;
  /** Put before every run's messages as the system prompt, when the config sets one. */
  systemPrompt?: string;
}

/** The agents of one config snapshot. */
export class AgentCatalog {
  /** Every agent of the config, in config order. */
  readonly agents: readonly ResolvedAgent[];
  /**
   * The agent that runs when none is named: the entry marked `default`, else `main` when it exists, else
   * the first entry.
   */
  readonly defaultAgentId: string;
  /** Whether that default is unambiguous: the only agent, or an entry marked `default`. */
  readonly defaultMarked: boolean;

  /** Resolves an `agents` config section; one that does not validate counts as empty (only `main`). */
  constructor(agentsSection: unknown) {
    const parsed = AgentsSectionSchema.safeParse(agentsSection ?? {});
    const section: AgentsSection = parsed.success ? parsed.data : {};
    const defaults = section.defaults ?? {};
    const entries: [string, AgentEntryConfig][] = Object.entries(section.entries ?? {});
    if (!entries.length) entries.push([DEFAULT_AGENT_ID, {}]);
    this.agents = entries.map(([id, entry]) => resolveAgent(id, entry, defaults));
    const marked = entries.find(([, e]) => e.default)?.[0];
    this.defaultMarked = entries.length === 1 || marked !== undefined;
    this.defaultAgentId = marked ??
      (entries.some(([id]) => id === DEFAULT_AGENT_ID) ? DEFAULT_AGENT_ID : entries[0][0]);
  }

  /**
   * The agent with this id (or the default one); unknown ids are a `NOT_FOUND` naming the known ones. Ids
   * match case-insensitively: session keys carry them folded to lower case, as the reference stores them.
   */
  get(agentId?: string): ResolvedAgent {
    const id = agentId ?? this.defaultAgentId;
    const agent = this.agents.find((a) => a.id === id) ??
      this.agents.find((a) => a.id.toLowerCase() === id.toLowerCase());
    if (!agent) {
      throw new GatewayError("NOT_FOUND", `Unknown agent '${id}'.`, {
        details: { agentId: id, knownAgents: this.agents.map((a) => a.id) },
      });
    }
    return agent;
  }
}

function resolveAgent(id: string, entry: AgentEntryConfig, defaults: AgentSettings): ResolvedAgent {
  const timeoutSeconds = entry.timeoutSeconds ?? defaults.timeoutSeconds;
  const configured = primaryModel(entry.model) ?? primaryModel(defaults.model);
  const agent: ResolvedAgent = {
    id,
    name: entry.name ?? id,
    model: configured ?? `${LOCAL_PROVIDER_ID}/${LOCAL_CHAT_MODEL}`,
    modelConfigured: configured !== undefined,
    embeddingModel: entry.embeddingModel ?? defaults.embeddingModel ??
      `${LOCAL_PROVIDER_ID}/${LOCAL_EMBEDDING_MODEL}`,
    maxConcurrent: entry.maxConcurrent ?? defaults.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
    timeoutMs: timeoutSeconds ? timeoutSeconds * 1000 : DEFAULT_RUN_TIMEOUT_MS,
  };
  const systemPrompt = entry.systemPrompt ?? defaults.systemPrompt;
  if (systemPrompt) agent.systemPrompt = systemPrompt;
  return agent;
}

function primaryModel(model: AgentModelConfig | undefined): string | undefined {
  return typeof model === "string" ? model : model?.primary;
}
