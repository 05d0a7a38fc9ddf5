/**
 * The seam through which agent runs use gateway-side tools: the runtime asks which tools to offer the
 * model and hands each call the model makes back to the host. The tools module implements it over its
 * registry; the agents feature itself knows no tool.
 *
 * @module
 */
import type { ToolCall, ToolSpec } from "../providers/types.ts";

/** The run a tool call belongs to. */
export interface ToolRunContext {
  /** The id of the run whose model made the call. */
  runId: string;
  /** The full key of the session the run belongs to (`agent:<agentId>:<rest>`). */
  sessionKey: string;
  /** The agent that runs it; tools that read sessions default to this agent's. */
  agentId: string;
  /** Started by a hook or channel: its input came from outside, so its tools are bounded further. */
  external?: boolean;
}

/** What a tool call produced, as the text the model reads next. */
export interface ToolCallResult {
  /** The text handed back to the model as the tool message. */
  output: string;
  /** The call failed and `output` says why; the run's `tool` result event carries the flag to clients. */
  isError: boolean;
}

/** Offers tools to agent runs and executes the calls the model makes. */
export interface AgentToolHost {
  /** The tools a run may call (already filtered by policy); empty for none. */
  specs(run: ToolRunContext): ToolSpec[] | Promise<ToolSpec[]>;
  /** Runs one call. Failures are reported in the result, never thrown. */
  execute(call: ToolCall, run: ToolRunContext, signal: AbortSignal): Promise<ToolCallResult>;
}

/** A run stops calling tools after this many model steps and keeps the last reply as it is. */
export const MAX_TOOL_STEPS = 8;
