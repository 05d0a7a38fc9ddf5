/**
 * Gateway tools: a registry with a policy, safe built-ins, `POST /tools/invoke`, the `tools.invoke` and
 * `tools.catalog` WS methods, and tool use by agent runs.
 *
 * @example Register a tool and call it over `POST /tools/invoke`
 * ```ts
 * import { agentsModule, createGateway, memoryTransport, toolsModule } from "@openclaw-ts/gateway";
 *
 * const transport = memoryTransport();
 * const agents = agentsModule();
 * const tools = toolsModule({ agents });
 * tools.registry.register({
 *   name: "lookup_order",
 *   description: "Finds an order by id.",
 *   parameters: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
 *   execute: (args) => ({ id: args.id, status: "shipped" }),
 * });
 * const gateway = createGateway({
 *   transport,
 *   config: { gateway: { auth: { token: "s3cret" } } },
 *   modules: [agents, tools],
 * });
 * await gateway.start();
 *
 * const response = await transport.fetch("/tools/invoke", {
 *   method: "POST",
 *   headers: { authorization: "Bearer s3cret", "content-type": "application/json" },
 *   body: JSON.stringify({ tool: "lookup_order", args: { id: "A-17" } }),
 * });
 * const body = await response.json();
 * if (body.result?.status !== "shipped") throw new Error(JSON.stringify(body));
 * await gateway.stop();
 * ```
 *
 * @module
 */
export { type ToolsModule, toolsModule, type ToolsModuleOptions } from "./tools-module.ts";
export { InProcessToolRegistry } from "./registry.ts";
export {
  type AgentToolSource,
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
