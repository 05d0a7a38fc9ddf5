/**
 * Which tools a caller may reach. Two layers, as OpenClaw has them:
 *
 * - the tool policy of the config: `tools.allow` / `tools.deny`, then the agent's own
 *   (`agents.defaults.tools`, `agents.entries.<agentId>.tools`). A deny entry always wins; a non-empty
 *   allow list admits only what it names. Entries are tool names, `*` globs or `group:<groupId>`.
 * - the gateway surface (`/tools/invoke`, `tools.invoke`): a default deny list of tools that run
 *   commands, write files or drive the gateway, extended by `gateway.tools.deny`; `gateway.tools.allow`
 *   lifts default entries for owner callers only. Owner-only tools stay hidden from everyone else.
 *
 * @module
 */
import * as z from "zod";
import { type ToolPolicy, ToolPolicySchema } from "../config/sections/tools.ts";
import type { GatewayConfig } from "../config/schema.ts";
import { scopeSatisfied } from "../protocol/scopes.ts";
import type { CallerIdentity } from "../types.ts";
import type { ToolDefinition } from "./types.ts";

/** Tools the gateway surface refuses unless an owner lifts them with `gateway.tools.allow`. */
export const DEFAULT_HTTP_TOOL_DENY: readonly string[] = [
  "exec",
  "spawn",
  "shell",
  "fs_write",
  "fs_delete",
  "fs_move",
  "apply_patch",
  "sessions_spawn",
  "sessions_send",
  "cron",
  "gateway",
  "nodes",
];

/** Tools only owner/admin callers may invoke, whatever the config allows. */
export const OWNER_ONLY_TOOLS: readonly string[] = ["cron", "gateway", "nodes"];

const WithTools = z.looseObject({ tools: ToolPolicySchema.optional() });

function toolsOf(section: unknown): ToolPolicy | undefined {
  const parsed = WithTools.safeParse(section ?? {});
  return parsed.success ? parsed.data.tools : undefined;
}

/** Whether one allow/deny entry names `tool`. */
function matches(entry: string, tool: ToolDefinition): boolean {
  if (entry.startsWith("group:")) return entry.slice(6) === groupOf(tool);
  if (!entry.includes("*")) return entry === tool.name;
  const pattern = entry.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${pattern}$`).test(tool.name);
}

/** The catalog group of a tool: its own for core tools, `plugin:<id>` for extensions. */
export function groupOf(tool: ToolDefinition): string {
  return (tool.source ?? "plugin") === "core" ? tool.group ?? "other" : `plugin:${tool.pluginId ?? "app"}`;
}

function admits(layer: ToolPolicy | undefined, tool: ToolDefinition): boolean {
  if (layer?.deny?.some((entry) => matches(entry, tool))) return false;
  return !layer?.allow?.length || layer.allow.some((entry) => matches(entry, tool));
}

/** Whether the config's tool policy lets `agentId` use `tool`. */
export function configAllows(config: GatewayConfig, agentId: string, tool: ToolDefinition): boolean {
  const agents = config.agents;
  return admits(toolsOf(config), tool) &&
    admits(toolsOf(agents?.defaults), tool) &&
    admits(toolsOf(agents?.entries?.[agentId]), tool);
}

/**
 * Whether a caller holds owner rights: `operator.admin`. Shared-secret HTTP callers always have it;
 * sockets have it only when they asked for it, whatever credential they connected with.
 */
export function isOwner(caller: CallerIdentity): boolean {
  return scopeSatisfied(caller.scopes, "operator.admin");
}

/** Whether the gateway surface lets a caller (owner or not) invoke `tool`. */
export function surfaceAllows(config: GatewayConfig, tool: ToolDefinition, owner: boolean): boolean {
  if (!owner && (tool.ownerOnly || OWNER_ONLY_TOOLS.includes(tool.name))) return false;
  const surface = config.gateway?.tools;
  if (surface?.deny?.includes(tool.name)) return false;
  const lifted = owner && surface?.allow?.includes(tool.name);
  return lifted || !DEFAULT_HTTP_TOOL_DENY.includes(tool.name);
}
