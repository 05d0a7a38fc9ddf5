/**
 * Agents, sessions and model providers, and the OpenAI-compatible HTTP API in front of them.
 *
 * @module
 */
export { type AgentsModule, agentsModule, type AgentsModuleOptions, type AgentStores } from "./module.ts";
