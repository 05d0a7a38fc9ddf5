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
  /** The tool's name. */
  id: string;
  /** Short human title. */
  label: string;
  /** What the tool does. */
  description: string;
  /** `core` for tools the gateway ships, `plugin` for tools an extension registered. */
  source: ToolSource;
  /** The extension owning a `plugin` tool. */
  pluginId?: string;
  /** How much damage the tool can do, when stated. */
  risk?: ToolRisk;
  /** Free-form labels. */
  tags?: string[];
  /** Profiles that include the tool by default. */
  defaultProfiles: ToolProfileId[];
}

/** Tools of one group. */
export interface ToolCatalogGroup {
  /** Group id: a core group id, or the plugin id for an extension's group. */
  id: string;
  /** Short human title of the group. */
  label: string;
  /** `core` or `plugin`, as for its tools. */
  source: ToolSource;
  /** The extension owning the group, for plugin groups. */
  pluginId?: string;
  /** The tools in the group. */
  tools: ToolCatalogEntry[];
}

/** What `tools.catalog` returns. */
export interface ToolCatalog {
  /** The agent the catalog was built for. */
  agentId: string;
  /** The tool profiles OpenClaw names, with their display labels. */
  profiles: { id: ToolProfileId; label: string }[];
  /** Core groups first, then one group per extension. */
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
