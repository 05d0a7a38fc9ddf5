/**
 * What a gateway tool is, what it sees when it runs, and the registry that holds them. A tool is a
 * named function with a JSON Schema for its arguments, invokable by a model during an agent run, by
 * `POST /tools/invoke` and by the `tools.invoke` WS method.
 *
 * @module
 */
import type { ToolRunContext } from "../agents/tool-host.ts";
import type { SessionVisibility } from "../config/sections/tools.ts";
import type { CallerIdentity } from "../types.ts";

/** Where a tool comes from, as `tools.catalog` reports it. */
export type ToolSource = "core" | "plugin";

/** The tool profiles OpenClaw names. */
export type ToolProfileId = "minimal" | "coding" | "messaging" | "full";

/** How much damage a tool can do. */
export type ToolRisk = "low" | "medium" | "high";

/** Where and for whom a tool runs. */
export interface ToolContext {
  /** Stable for one invocation (derived from the idempotency key when the caller sends one). */
  toolCallId: string;
  /** The full session key (`agent:<agentId>:<rest>`) the call is made for. */
  sessionKey: string;
  /** The agent whose session the call is made for. */
  agentId: string;
  /** Set when a model called the tool during an agent run. */
  runId?: string;
  /** Who made the call: the socket or HTTP client's identity and scopes. */
  caller: CallerIdentity;
  /** Which other sessions the session tools may read for this call; unset = no bound. */
  sessionVisibility?: SessionVisibility;
  /** Aborted when the caller goes away or the run is cancelled. */
  signal: AbortSignal;
  /** The gateway's clock, epoch milliseconds. */
  now(): number;
}

/** A tool. `execute` returns any JSON-serialisable value; throw {@link ToolInputError} for bad input. */
export interface ToolDefinition {
  /** Unique, snake_case, as a model sees it. */
  name: string;
  /** A short human title; defaults to the name. */
  label?: string;
  /** What the tool does and when to use it; shown to models and in `tools.catalog`. */
  description: string;
  /** JSON Schema of the arguments object. */
  parameters?: Record<string, unknown>;
  /** Catalog group id (core tools); plugin tools are grouped by `pluginId`. */
  group?: string;
  /** Defaults to `plugin`: tools an embedding app registers are extensions. */
  source?: ToolSource;
  /** The extension owning a `plugin` tool; defaults to `app`. */
  pluginId?: string;
  /** How much damage the tool can do, as `tools.catalog` reports it; unset means not stated. */
  risk?: ToolRisk;
  /** Free-form labels shown in `tools.catalog`. */
  tags?: string[];
  /** Profiles that include the tool by default; defaults to `full` only. */
  profiles?: ToolProfileId[];
  /** Only owner/admin callers may invoke it, and models never see it. */
  ownerOnly?: boolean;
  /**
   * Set for a tool that runs host commands: the command a call runs, as an exec approval shows it. Such a
   * tool's calls by a model wait for an operator when `tools.exec.ask` says so (lib/tools/exec-gate.ts).
   */
  execCommand?(args: Record<string, unknown>): string;
  /** Runs the tool; may return a promise. Throw {@link ToolInputError} to answer 400/403 instead of 500. */
  execute(args: Record<string, unknown>, context: ToolContext): unknown;
}

/** Holds the tools of one gateway. */
export interface ToolRegistry {
  /** Adds a tool; a name already taken is an error. Returns the function that removes it again. */
  register(tool: ToolDefinition): () => void;
  /** Returns the tool named `name`, or `undefined`. */
  get(name: string): ToolDefinition | undefined;
  /** Every tool, in registration order. */
  list(): ToolDefinition[];
}

/**
 * Tools that come and go with something outside the registry (the commands connected nodes declared),
 * offered to agent runs next to the registry's and under the same tool policy.
 */
export interface AgentToolSource {
  /** The tools on offer to `run` now. */
  tools(run: ToolRunContext): ToolDefinition[] | Promise<ToolDefinition[]>;
}

/** The caller's arguments are wrong (400), or the caller may not do this (403). The message is shown. */
export class ToolInputError extends Error {
  /** HTTP status the refusal is answered with: 400 for bad arguments, 403 for a forbidden call. */
  readonly status: 400 | 403;

  /** Makes a refusal shown to the caller as `message`, with status 400 (default) or 403. */
  constructor(message: string, status: 400 | 403 = 400) {
    super(message);
    this.name = "ToolInputError";
    this.status = status;
  }
}
