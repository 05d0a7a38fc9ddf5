/**
 * Nodes: `role: "node"` clients (OpenClaw's mobile and desktop apps, headless node hosts). The module
 * registers each connected node in `stores.nodes`, serves `node.list`, `node.describe`, `node.invoke`,
 * `node.invoke.result` and `node.event`, and, given the tools module, offers the nodes' commands to agent
 * runs as tools.
 *
 * @module
 */
export { nodesModule, type NodesModuleOptions } from "./nodes-module.ts";
export { NODE_TOOL_GROUP, nodeToolName } from "./agent-tools.ts";
export { ADMIN_ONLY_COMMANDS, commandAllowlist, type NodeDeclaration, platformId } from "./command-policy.ts";
export { DEFAULT_INVOKE_TIMEOUT_MS } from "./invoke.ts";
