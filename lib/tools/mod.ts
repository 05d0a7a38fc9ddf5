/**
 * Gateway tools: a registry with a policy, safe built-ins, `POST /tools/invoke`, the `tools.invoke` and
 * `tools.catalog` WS methods, and tool use by agent runs.
 *
 * ```ts
 * const agents = agentsModule();
 * const tools = toolsModule({ agents });
 * tools.registry.register({
 *   name: "lookup_order",
 *   description: "Finds an order by id.",
 *   parameters: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
 *   execute: (args) => ({ id: args.id, status: "shipped" }),
 * });
 * createGateway({ config, modules: [agents, tools] });
 * ```
 *
 * @module
 */
export { type ToolsModule, toolsModule, type ToolsModuleOptions } from "./tools-module.ts";
export { InProcessToolRegistry } from "./registry.ts";
export {
  type ToolContext,
  type ToolDefinition,
  ToolInputError,
  type ToolProfileId,
  type ToolRegistry,
  type ToolRisk,
  type ToolSource,
} from "./types.ts";
export { DEFAULT_HTTP_TOOL_DENY, OWNER_ONLY_TOOLS } from "./policy.ts";
export { currentTimeTool, echoTool, sessionTools } from "./builtins.ts";
export type { ToolCatalog, ToolCatalogEntry, ToolCatalogGroup } from "./catalog.ts";
export { TOOLS_INVOKE_MAX_BODY_BYTES } from "./http.ts";
