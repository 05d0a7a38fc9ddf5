/**
 * The exec approval gate of command-running tools (those that declare `execCommand`): with
 * `tools.exec.ask` on, a model's call waits for an operator's decision (`exec.approval.request`) before it
 * runs, and a denial, or an expiry the `askFallback` does not let through, becomes the tool's error
 * result in the reference's words.
 *
 * @module
 */
import type { ExecPolicy } from "../config/sections/tools.ts";
import type { GatewayConfig } from "../config/schema.ts";
import type { ToolDefinition } from "./types.ts";

/** The call whose approval is asked for, in `exec.approval.request`'s params. */
export interface ExecApprovalAsk {
  command: string;
  host: "gateway";
  ask: string;
  agentId: string;
  sessionKey: string;
  runId: string;
  toolCallId: string;
  timeoutMs?: number;
}

/** What the gate needs: where approvals are asked for, and which commands `allow-always` trusts. */
export interface ExecGateDeps {
  config(): GatewayConfig;
  /** Asks and waits; the decision is `null` when the request expired unanswered. */
  requestApproval(
    ask: ExecApprovalAsk,
    signal: AbortSignal,
  ): Promise<{ id: string; decision: string | null }>;
  trusted(agentId: string, command: string): Promise<boolean>;
  /** How long a request waits; the reference's 30 minutes when unset. */
  timeoutMs?: number;
}

/** The exec policy for `agentId`: its own `tools.exec` keys over the top-level ones. */
export function execPolicy(config: GatewayConfig, agentId: string): ExecPolicy {
  return { ...config.tools?.exec, ...config.agents?.entries?.[agentId]?.tools?.exec };
}

/** Where the call comes from. */
export interface GatedCall {
  tool: ToolDefinition;
  args: Record<string, unknown>;
  agentId: string;
  sessionKey: string;
  runId: string;
  toolCallId: string;
}

/** Why the call may not run (the tool's error result), or `undefined` when it may. */
export async function execRefusal(
  call: GatedCall,
  deps: ExecGateDeps,
  signal: AbortSignal,
): Promise<string | undefined> {
  if (!call.tool.execCommand) return undefined;
  const policy = execPolicy(deps.config(), call.agentId);
  const ask = policy.ask ?? "off";
  if (ask === "off") return undefined;
  const command = call.tool.execCommand(call.args);
  if (ask === "on-miss" && await deps.trusted(call.agentId, command)) return undefined;
  const { agentId, sessionKey, runId, toolCallId } = call;
  const ask_: ExecApprovalAsk = { command, host: "gateway", ask, agentId, sessionKey, runId, toolCallId };
  if (deps.timeoutMs) ask_.timeoutMs = deps.timeoutMs;
  const { id, decision } = await deps.requestApproval(ask_, signal);
  const denied = (reason: string) => `Exec denied (gateway id=${id}, ${reason}): ${command}`;
  if (decision === "allow-once" || decision === "allow-always") return undefined;
  if (decision !== null) return denied("user-denied");
  const fallback = policy.askFallback ?? "deny";
  if (fallback === "full") return undefined;
  if (fallback === "allowlist") {
    return await deps.trusted(call.agentId, command) ? undefined : denied("approval-timeout: allowlist-miss");
  }
  return denied("approval-timeout");
}
