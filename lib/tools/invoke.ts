/**
 * One direct tool invocation, shared by `POST /tools/invoke` and the `tools.invoke` WS method: resolve
 * the session, apply both policy layers, run the tool, and classify the outcome the way the reference
 * does (`invalid_request` 400, `tool_call_blocked` 403, `not_found` 404, `tool_error` 400/403/500).
 *
 * @module
 */
import type { AgentCatalog } from "../agents/catalog.ts";
import { sessionTargetIn } from "../agents/session-target.ts";
import type { SessionTarget } from "../agents/session-keys.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import type { CallerIdentity } from "../types.ts";
import { configAllows, isOwner, surfaceAllows } from "./policy.ts";
import { type ToolDefinition, ToolInputError, type ToolRegistry, type ToolSource } from "./types.ts";

/** What the caller asked for (`tool` is the older spelling of `name`). */
export interface ToolInvokeInput {
  name?: string;
  tool?: string;
  action?: string;
  args?: Record<string, unknown>;
  sessionKey?: string;
  agentId?: string;
  idempotencyKey?: string;
}

/** How a failed invocation is classified. */
export type ToolInvokeErrorType = "invalid_request" | "not_found" | "tool_call_blocked" | "tool_error";

/** The outcome, with the HTTP status it maps to. */
export interface ToolInvokeOutcome {
  ok: boolean;
  status: number;
  toolName: string;
  source?: ToolSource;
  result?: unknown;
  error?: { type: ToolInvokeErrorType; message: string; requiresApproval?: boolean };
}

/** What an invocation needs from its surface. */
export interface ToolInvokeDeps {
  registry: ToolRegistry;
  config: GatewayConfig;
  agents: AgentCatalog;
  caller: CallerIdentity;
  signal: AbortSignal;
  now(): number;
  logger: Logger;
  /** `http` or `rpc`: the first part of generated tool-call ids. */
  surface: string;
}

/** The reference's read origin for calls made directly by an operator. */
const ORIGIN = "direct-operator";

/** Resolves, checks and runs one tool. Never throws: every failure is an outcome. */
export async function invokeTool(input: ToolInvokeInput, deps: ToolInvokeDeps): Promise<ToolInvokeOutcome> {
  const toolName = (input.name ?? input.tool ?? "").trim();
  const fail = (status: number, type: ToolInvokeErrorType, message: string): ToolInvokeOutcome => ({
    ok: false,
    status,
    toolName,
    error: { type, message },
  });
  if (!toolName) return fail(400, "invalid_request", "tools.invoke requires name");

  let target: SessionTarget;
  try {
    const key = input.sessionKey?.trim();
    target = sessionTargetIn(deps.agents, key && key !== "main" ? key : undefined, input.agentId);
  } catch (error) {
    return fail(400, "invalid_request", error instanceof Error ? error.message : String(error));
  }

  const tool = deps.registry.get(toolName);
  if (
    !tool || !configAllows(deps.config, target.agentId, tool) ||
    !surfaceAllows(deps.config, tool, isOwner(deps.caller))
  ) {
    return fail(404, "not_found", `Tool not available: ${toolName}`);
  }

  const key = input.idempotencyKey?.trim();
  const toolCallId = `${deps.surface}-${ORIGIN}-${key || deps.now()}`;
  try {
    const result = await tool.execute(withAction(tool, input.args ?? {}, input.action), {
      toolCallId,
      sessionKey: target.key,
      agentId: target.agentId,
      caller: deps.caller,
      signal: deps.signal,
      now: deps.now,
    });
    return { ok: true, status: 200, toolName, source: tool.source ?? "plugin", result };
  } catch (error) {
    if (error instanceof ToolInputError) return fail(error.status, "tool_error", error.message);
    if (!deps.signal.aborted) {
      deps.logger.warn("tool execution failed", { tool: toolName, error: String(error) });
    }
    // Unexpected errors may carry paths or secrets: the caller gets a fixed message, the log the detail.
    return fail(500, "tool_error", "tool execution failed");
  }
}

/** `action` is copied into the arguments when the tool's schema has one and the caller did not set it. */
function withAction(
  tool: ToolDefinition,
  args: Record<string, unknown>,
  action: string | undefined,
): Record<string, unknown> {
  const properties = tool.parameters?.properties;
  const accepts = typeof properties === "object" && properties !== null && "action" in properties;
  return action?.trim() && accepts && args.action === undefined ? { ...args, action: action.trim() } : args;
}
