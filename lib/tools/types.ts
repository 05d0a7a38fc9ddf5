/**
 * What a gateway tool is, what it sees when it runs, and the registry that holds them. A tool is a
 * named function with a JSON Schema for its arguments, invokable by a model during an agent run, by
 * `POST /tools/invoke` and by the `tools.invoke` WS method.
 *
 * @module
 */
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
  agentId: string;
  /** Set when a model called the tool during an agent run. */
  runId?: string;
  caller: CallerIdentity;
  /** Which other sessions the session tools may read for this call; unset = no bound. */
  sessionVisibility?: SessionVisibility;
  /** Aborted when the caller goes away or the run is cancelled. */
  signal: AbortSignal;
  now(): number;
}

/** A tool. `execute` returns any JSON-serialisable value; throw {@link ToolInputError} for bad input. */
export interface ToolDefinition {
  /** Unique, snake_case, as a model sees it. */
  name: string;
  /** A short human title; defaults to the name. */
  label?: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters?: Record<string, unknown>;
  /** Catalog group id (core tools); plugin tools are grouped by `pluginId`. */
  group?: string;
  /** Defaults to `plugin`: tools an embedding app registers are extensions. */
  source?: ToolSource;
  /** The extension owning a `plugin` tool; defaults to `app`. */
  pluginId?: string;
  risk?: ToolRisk;
  tags?: string[];
  /** Profiles that include the tool by default; defaults to `full` only. */
  profiles?: ToolProfileId[];
  /** Only owner/admin callers may invoke it, and models never see it. */
  ownerOnly?: boolean;
  execute(args: Record<string, unknown>, context: ToolContext): unknown;
}

/** Holds the tools of one gateway. */
export interface ToolRegistry {
  /** Adds a tool; a name already taken is an error. Returns the function that removes it again. */
  register(tool: ToolDefinition): () => void;
  get(name: string): ToolDefinition | undefined;
  /** Every tool, in registration order. */
  list(): ToolDefinition[];
}

/** The caller's arguments are wrong (400), or the caller may not do this (403). The message is shown. */
export class ToolInputError extends Error {
  readonly status: 400 | 403;

  constructor(message: string, status: 400 | 403 = 400) {
    super(message);
    this.name = "ToolInputError";
    this.status = status;
  }
}
