/**
 * Lets agent runs use the registry: the model is offered every tool the config's policy allows the
 * agent (owner-only tools never), and its calls run here with the run's session as context.
 *
 * @module
 */
import type { AgentToolHost, ToolCallResult, ToolRunContext } from "../agents/tool-host.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import type { ToolCall, ToolSpec } from "../providers/types.ts";
import type { CallerIdentity } from "../types.ts";
import { type ExecGateDeps, execRefusal } from "./exec-gate.ts";
import { configAllows, OWNER_ONLY_TOOLS } from "./policy.ts";
import { runSessionVisibility } from "./session-visibility.ts";
import { type AgentToolSource, type ToolDefinition, ToolInputError, type ToolRegistry } from "./types.ts";

/** What the host reads from the gateway. */
export interface AgentToolHostDeps {
  registry: ToolRegistry;
  /** Tools offered next to the registry's (a node's commands); the registry's win a shared name. */
  sources?: () => Iterable<AgentToolSource>;
  config(): GatewayConfig;
  now(): number;
  logger: Logger;
  /** Exec approvals for command-running tools; without it they run ungated. */
  execGate?: Omit<ExecGateDeps, "config">;
}

/** An {@link AgentToolHost} over a registry. */
export function registryToolHost(deps: AgentToolHostDeps): AgentToolHost {
  const usable = async (run: ToolRunContext): Promise<ToolDefinition[]> => {
    const sourced = await Promise.all([...deps.sources?.() ?? []].map((source) => source.tools(run)));
    const byName = new Map<string, ToolDefinition>();
    for (const tool of [...deps.registry.list(), ...sourced.flat()]) {
      if (!byName.has(tool.name)) byName.set(tool.name, tool);
    }
    return [...byName.values()].filter((tool) =>
      !tool.ownerOnly && !OWNER_ONLY_TOOLS.includes(tool.name) &&
      configAllows(deps.config(), run.agentId, tool)
    );
  };
  return {
    async specs(run): Promise<ToolSpec[]> {
      return (await usable(run)).map((tool) => {
        const spec: ToolSpec = { name: tool.name, description: tool.description };
        if (tool.parameters) spec.parameters = tool.parameters;
        return spec;
      });
    },
    async execute(call: ToolCall, run: ToolRunContext, signal: AbortSignal): Promise<ToolCallResult> {
      const tool = (await usable(run)).find((t) => t.name === call.name);
      if (!tool) return { output: `Tool not available: ${call.name}`, isError: true };
      let args: unknown;
      try {
        args = call.arguments.trim() ? JSON.parse(call.arguments) : {};
      } catch {
        return { output: `invalid ${call.name} arguments: not JSON`, isError: true };
      }
      if (typeof args !== "object" || args === null || Array.isArray(args)) {
        return { output: `invalid ${call.name} arguments: expected an object`, isError: true };
      }
      const refusal = deps.execGate && await execRefusal(
        { tool, args: args as Record<string, unknown>, ...run, toolCallId: call.id },
        { ...deps.execGate, config: deps.config },
        signal,
      );
      if (refusal) return { output: refusal, isError: true };
      // The model acts for the run, not for an operator: it holds no scopes of its own.
      const caller: CallerIdentity = {
        connId: `run:${run.runId}`,
        role: "operator",
        scopes: [],
        authMethod: "agent",
      };
      const sessionVisibility = runSessionVisibility(deps.config(), run.external === true);
      try {
        const result = await tool.execute(args as Record<string, unknown>, {
          toolCallId: call.id,
          sessionKey: run.sessionKey,
          agentId: run.agentId,
          runId: run.runId,
          caller,
          ...(sessionVisibility ? { sessionVisibility } : {}),
          signal,
          now: deps.now,
        });
        return {
          output: typeof result === "string" ? result : JSON.stringify(result ?? null),
          isError: false,
        };
      } catch (error) {
        if (error instanceof ToolInputError) return { output: error.message, isError: true };
        deps.logger.warn("tool execution failed", {
          tool: call.name,
          runId: run.runId,
          error: String(error),
        });
        return { output: "tool execution failed", isError: true };
      }
    },
  };
}
