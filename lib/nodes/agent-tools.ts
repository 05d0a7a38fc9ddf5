/**
 * Connected nodes' commands as agent tools: one tool per command (`device.info` → `node_device_info`),
 * whose call goes through `node.invoke` like an operator's, under the tool policy (`group:nodes`, or the
 * tool's name). Runs started from outside input (hooks, channels) get none: the reference keeps node
 * control to the owner's own turns.
 *
 * @module
 */
import type { ToolRunContext } from "../agents/tool-host.ts";
import { GatewayError } from "../errors.ts";
import type { NodeSession, NodeStore } from "../state/nodes.ts";
import { type AgentToolSource, type ToolDefinition, ToolInputError } from "../tools/types.ts";
import type { NodeInvokeInput } from "./methods.ts";

/** The catalog group node tools belong to, as `group:nodes` in a tool policy names it. */
export const NODE_TOOL_GROUP = "nodes";

/** Runs `node.invoke` for a tool call of `run`. */
export type NodeInvokeCall = (
  input: NodeInvokeInput,
  run: { runId?: string },
  signal: AbortSignal,
) => Promise<unknown>;

/** The tool name of a node command: provider-safe, at most 64 characters. */
export function nodeToolName(command: string): string {
  return `node_${command.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 64);
}

/** The agent tools of the nodes in `store`, each calling `invoke`. */
export function nodeToolSource(store: NodeStore, invoke: NodeInvokeCall): AgentToolSource {
  return {
    async tools(run: ToolRunContext): Promise<ToolDefinition[]> {
      if (run.external) return [];
      const offering = new Map<string, NodeSession[]>();
      for (const node of await store.list()) {
        for (const command of node.commands) offering.set(command, [...offering.get(command) ?? [], node]);
      }
      const byName = new Map<string, ToolDefinition>();
      for (const [command, nodes] of offering) {
        const name = nodeToolName(command);
        if (!byName.has(name)) byName.set(name, commandTool(name, command, nodes, invoke));
      }
      return [...byName.values()];
    },
  };
}

function commandTool(
  name: string,
  command: string,
  nodes: NodeSession[],
  invoke: NodeInvokeCall,
): ToolDefinition {
  const names = nodes.map((node) => node.displayName ? `${node.displayName} (${node.nodeId})` : node.nodeId);
  return {
    name,
    label: command,
    description: `Runs the command "${command}" on a connected node: ${names.join(", ")}.`,
    parameters: {
      type: "object",
      properties: {
        node: {
          type: "string",
          description: "The node's id or display name; needed only when more than one node offers it.",
        },
        params: { type: "object", description: `The params of "${command}", as the node expects them.` },
        timeoutMs: { type: "integer", minimum: 1, description: "How long to wait for the node (ms)." },
      },
      additionalProperties: false,
    },
    source: "core",
    group: NODE_TOOL_GROUP,
    risk: "medium",
    async execute(args, context) {
      const node = pickNode(nodes, args.node);
      const input: NodeInvokeInput = { nodeId: node.nodeId, command, idempotencyKey: context.toolCallId };
      if (args.params !== undefined) input.params = args.params;
      if (Number.isInteger(args.timeoutMs) && Number(args.timeoutMs) > 0) {
        input.timeoutMs = Number(args.timeoutMs);
      }
      try {
        const answer = await invoke(input, { runId: context.runId }, context.signal) as { payload?: unknown };
        return answer.payload ?? null;
      } catch (error) {
        // The model reads why the node could not answer and may try otherwise.
        if (error instanceof GatewayError) throw new ToolInputError(error.message);
        throw error;
      }
    },
  };
}

/** The node a call names (by id or display name), or the only one offering the command. */
function pickNode(nodes: NodeSession[], wanted: unknown): NodeSession {
  if (typeof wanted !== "string" || !wanted.trim()) {
    if (nodes.length === 1) return nodes[0]!;
    throw new ToolInputError(
      `several nodes offer this command; name one: ${nodes.map((n) => n.nodeId).join(", ")}`,
    );
  }
  const key = wanted.trim().toLowerCase();
  const node = nodes.find((n) => n.nodeId.toLowerCase() === key || n.displayName?.toLowerCase() === key);
  if (!node) throw new ToolInputError(`no connected node "${wanted}" offers this command`);
  return node;
}
