/**
 * The WS methods: `tools.invoke` (write) runs one tool through the same policy path as
 * `/tools/invoke` and answers with the SDK envelope `{ok, toolName, output?, source?, error?}`;
 * `tools.catalog` (read) lists the tools an agent may use.
 *
 * @module
 */
import * as z from "zod";
import type { AgentCatalog } from "../agents/catalog.ts";
import { type AnyMethod, defineMethod } from "../methods/descriptor.ts";
import type { GatewayContext } from "../types.ts";
import { buildCatalog } from "./catalog.ts";
import type { ToolInvokeErrorType, ToolInvokeInput, ToolInvokeOutcome } from "./invoke.ts";
import { configAllows } from "./policy.ts";
import type { ToolRegistry } from "./types.ts";
import type { CallerIdentity } from "../types.ts";

// Closed objects, as protocol.schema.json has them.
const ToolsInvokeParams = z.strictObject({
  name: z.string().min(1),
  args: z.record(z.string(), z.unknown()).optional(),
  sessionKey: z.string().min(1).optional(),
  agentId: z.string().min(1).optional(),
  confirm: z.boolean().optional(),
  idempotencyKey: z.string().min(1).optional(),
  conversationReadOrigin: z.literal("direct-operator").optional(),
});

const ToolsCatalogParams = z.strictObject({
  agentId: z.string().min(1).optional(),
  includePlugins: z.boolean().optional(),
});

/** The error codes of the WS envelope, by outcome type. */
const RPC_CODES: Record<ToolInvokeErrorType, string> = {
  invalid_request: "validation_error",
  not_found: "not_found",
  tool_call_blocked: "forbidden",
  tool_error: "internal_error",
};

/** What the methods need besides the gateway context. */
export interface ToolMethodsDeps {
  registry: ToolRegistry;
  agents(): AgentCatalog;
  invoke(input: ToolInvokeInput, caller: CallerIdentity, signal: AbortSignal): Promise<ToolInvokeOutcome>;
}

/** `tools.invoke` and `tools.catalog`. */
export function toolMethods(context: GatewayContext, deps: ToolMethodsDeps): AnyMethod[] {
  const invoke = defineMethod({
    name: "tools.invoke",
    scope: "operator.write",
    params: ToolsInvokeParams,
    result: z.object({ ok: z.boolean(), toolName: z.string() }),
    handler: async ({ params, caller, signal }) => {
      const outcome = await deps.invoke(params, caller, signal);
      if (outcome.ok) {
        const envelope: Record<string, unknown> & { ok: boolean; toolName: string } = {
          ok: true,
          toolName: outcome.toolName,
          output: outcome.result,
        };
        if (outcome.source) envelope.source = outcome.source;
        return envelope;
      }
      const error = outcome.error!;
      const envelope: Record<string, unknown> & { ok: boolean; toolName: string } = {
        ok: false,
        toolName: outcome.toolName,
        error: {
          code: error.requiresApproval ? "requires_approval" : RPC_CODES[error.type],
          message: error.message,
        },
      };
      if (error.requiresApproval) envelope.requiresApproval = true;
      return envelope;
    },
  });

  const catalog = defineMethod({
    name: "tools.catalog",
    scope: "operator.read",
    params: ToolsCatalogParams,
    handler: ({ params }) => {
      const agent = deps.agents().get(params.agentId);
      const config = context.config();
      const tools = deps.registry.list()
        .filter((tool) => params.includePlugins !== false || (tool.source ?? "plugin") === "core")
        .filter((tool) => configAllows(config, agent.id, tool));
      return buildCatalog(agent.id, tools);
    },
  });

  return [invoke, catalog];
}
