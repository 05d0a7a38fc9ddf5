/**
 * Tools as a gateway module: a registry with the built-in tools, `POST /tools/invoke`, the
 * `tools.invoke` / `tools.catalog` WS methods, and — when given the agents module — tool use by the
 * model during WS agent runs.
 *
 * @module
 */
import { AgentCatalog } from "../agents/catalog.ts";
import { bodyTimeoutMs } from "../config/sections/gateway.ts";
import type { AgentsModule } from "../agents/agents-module.ts";
import { AGENT_RUNTIME } from "../agents/service.ts";
import type { CallerIdentity, GatewayContext, GatewayModule } from "../types.ts";
import { registryToolHost } from "./agent-host.ts";
import { currentTimeTool, echoTool, sessionTools } from "./builtins.ts";
import { toolsInvokeRoute } from "./http.ts";
import { invokeTool, type ToolInvokeInput } from "./invoke.ts";
import { toolMethods } from "./methods.ts";
import { InProcessToolRegistry } from "./registry.ts";
import type { AgentToolSource, ToolDefinition, ToolRegistry } from "./types.ts";

/** Options for {@link toolsModule}. */
export interface ToolsModuleOptions {
  /** The agents module (listed before this one): adds the session tools and lets its runs call tools. */
  agents?: AgentsModule;
  /** Defaults to a fresh in-process registry. */
  registry?: ToolRegistry;
  /** Tools of the embedding app, registered at setup. */
  tools?: ToolDefinition[];
  /** Register `current_time`, `echo` and (with `agents`) the session tools; true by default. */
  builtins?: boolean;
  /** `/tools/invoke` body cap; 2 MB by default. */
  maxBodyBytes?: number;
  /** `/tools/invoke` body read deadline; `gateway.limits.bodyTimeoutMs` (30 s) by default. */
  bodyTimeoutMs?: number;
  /** How long a model's command-running tool call waits for an exec approval; 30 minutes by default. */
  approvalTimeoutMs?: number;
}

/** Who asks for exec approvals on a run's behalf: the gateway itself, with the approvals scope only. */
const APPROVAL_REQUESTER: CallerIdentity = {
  connId: "tools",
  role: "operator",
  scopes: ["operator.approvals"],
  authMethod: "internal",
};

/** The tools module; `registry` takes more tools at any time. */
export interface ToolsModule extends GatewayModule {
  /** The tools this module serves; register more (or remove them) at any time. */
  readonly registry: ToolRegistry;
  /**
   * Offers a source's tools to agent runs (never to `/tools/invoke` or `tools.invoke`), under the same
   * tool policy; returns the function that withdraws it.
   */
  addAgentTools(source: AgentToolSource): () => void;
}

/**
 * `POST /tools/invoke`, `tools.invoke`, `tools.catalog` and agent tool use over one registry.
 *
 * @example An app's tool, given at setup and called through `tools.invoke`
 * ```ts
 * import { agentsModule, createGateway, toolsModule } from "@openclaw-ts/gateway";
 *
 * const agents = agentsModule();
 * const tools = toolsModule({
 *   agents,
 *   tools: [{
 *     name: "add",
 *     description: "Adds two numbers.",
 *     parameters: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } } },
 *     execute: (args) => Number(args.a) + Number(args.b),
 *   }],
 * });
 * const gateway = createGateway({ config: { gateway: { auth: { token: "s3cret" } } }, modules: [agents, tools] });
 * await gateway.start();
 *
 * const answer = await gateway.call("tools.invoke", { name: "add", args: { a: 2, b: 3 } });
 * if ((answer as { output?: unknown }).output !== 5) throw new Error(JSON.stringify(answer));
 * await gateway.stop();
 * ```
 */
export function toolsModule(options: ToolsModuleOptions = {}): ToolsModule {
  const registry = options.registry ?? new InProcessToolRegistry();
  const sources = new Set<AgentToolSource>();
  return {
    name: "tools",
    registry,
    addAgentTools(source) {
      sources.add(source);
      return () => sources.delete(source);
    },
    setup(context: GatewayContext) {
      const logger = context.logger.child("tools");
      const agents = options.agents;
      const builtins = options.builtins === false
        ? []
        : [currentTimeTool, echoTool, ...(agents ? sessionTools(() => agents.runtime()) : [])];
      const removals = [...builtins, ...options.tools ?? []].map((tool) => registry.register(tool));
      context.onStop(() => removals.forEach((remove) => remove()));

      const catalog = () => agents ? agents.runtime().agents() : new AgentCatalog(context.config().agents);
      const invoke =
        (surface: string) => (input: ToolInvokeInput, caller: CallerIdentity, signal: AbortSignal) =>
          invokeTool(input, {
            registry,
            config: context.config(),
            agents: catalog(),
            caller,
            signal,
            now: () => context.now(),
            logger,
            surface,
          });
      context.registerRoute(toolsInvokeRoute({
        invoke: invoke("http"),
        maxBodyBytes: options.maxBodyBytes,
        bodyTimeoutMs: () => options.bodyTimeoutMs ?? bodyTimeoutMs(context.config().gateway),
      }));
      for (const method of toolMethods(context, { registry, agents: catalog, invoke: invoke("rpc") })) {
        context.registerMethod(method);
      }

      if (agents) {
        const host = registryToolHost({
          registry,
          sources: () => sources,
          config: () => context.config(),
          now: () => context.now(),
          logger,
          execGate: {
            requestApproval: (ask, signal) =>
              context.callMethod("exec.approval.request", ask, APPROVAL_REQUESTER, signal) as Promise<
                { id: string; decision: string | null }
              >,
            trusted: (agentId, command) => context.stores.execApprovals.allowed(agentId, command),
            timeoutMs: options.approvalTimeoutMs,
          },
        });
        context.whenProvided(AGENT_RUNTIME, (runtime) => context.onStop(runtime.useTools(host)));
      }
    },
  };
}
