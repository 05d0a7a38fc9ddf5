/**
 * The `tools.catalog` result: the tools an agent may use, grouped as the protocol's ToolsCatalogResult
 * has them (core groups, then one group per extension), with the profiles OpenClaw names.
 *
 * @module
 */
import { groupOf } from "./policy.ts";
import type { ToolDefinition, ToolProfileId, ToolRisk, ToolSource } from "./types.ts";

/** One tool row. */
export interface ToolCatalogEntry {
  id: string;
  label: string;
  description: string;
  source: ToolSource;
  pluginId?: string;
  risk?: ToolRisk;
  tags?: string[];
  defaultProfiles: ToolProfileId[];
}

/** Tools of one group. */
export interface ToolCatalogGroup {
  id: string;
  label: string;
  source: ToolSource;
  pluginId?: string;
  tools: ToolCatalogEntry[];
}

/** What `tools.catalog` returns. */
export interface ToolCatalog {
  agentId: string;
  profiles: { id: ToolProfileId; label: string }[];
  groups: ToolCatalogGroup[];
}

const PROFILES: ToolCatalog["profiles"] = [
  { id: "minimal", label: "Minimal" },
  { id: "coding", label: "Coding" },
  { id: "messaging", label: "Messaging" },
  { id: "full", label: "Full" },
];

/** Groups `tools` (already filtered for the agent) into the catalog. */
export function buildCatalog(agentId: string, tools: readonly ToolDefinition[]): ToolCatalog {
  const groups = new Map<string, ToolCatalogGroup>();
  for (const tool of tools) {
    const id = groupOf(tool);
    let group = groups.get(id);
    if (!group) {
      const source = tool.source ?? "plugin";
      group = source === "core"
        ? { id, label: titleCase(id), source, tools: [] }
        : { id, label: tool.pluginId ?? "app", source, pluginId: tool.pluginId ?? "app", tools: [] };
      groups.set(id, group);
    }
    group.tools.push(entry(tool));
  }
  // Core groups first, the way the reference lists them.
  const ordered = [...groups.values()].sort((a, b) =>
    Number(a.source !== "core") - Number(b.source !== "core")
  );
  return { agentId, profiles: PROFILES, groups: ordered };
}

function entry(tool: ToolDefinition): ToolCatalogEntry {
  const source = tool.source ?? "plugin";
  const row: ToolCatalogEntry = {
    id: tool.name,
    label: tool.label ?? tool.name,
    description: tool.description,
    source,
    defaultProfiles: tool.profiles ?? ["full"],
  };
  if (source === "plugin") row.pluginId = tool.pluginId ?? "app";
  if (tool.risk) row.risk = tool.risk;
  if (tool.tags?.length) row.tags = tool.tags;
  return row;
}

function titleCase(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
