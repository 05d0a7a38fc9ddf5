/**
 * Nodes as a gateway module: sockets that connect with `role: "node"` (OpenClaw's mobile and desktop
 * apps, headless node hosts) are registered in `stores.nodes`, operators list and invoke them, and — when
 * given the tools module — agent runs call their commands as tools.
 *
 * @module
 */
import type { CallerIdentity, GatewayContext, GatewayModule } from "../types.ts";
import type { Logger } from "../log/logger.ts";
import type { ToolsModule } from "../tools/tools-module.ts";
import { nodeToolSource } from "./agent-tools.ts";
import { NodeInvoker } from "./invoke.ts";
import { nodeMethods } from "./methods.ts";
import { NodeRegistry } from "./registry.ts";
import { NODE_ROW_TTL_MS } from "../state/nodes.ts";

/** Options for {@link nodesModule}. */
export interface NodesModuleOptions {
  /** The tools module: with it, connected nodes' commands become agent tools. */
  tools?: ToolsModule;
}

/**
 * `node.list`, `node.describe`, `node.invoke`, `node.invoke.result`, `node.event`, the registry of
 * connected nodes, and (with `tools`) their commands as agent tools.
 *
 * @example A gateway that accepts nodes and lets its agents use them
 * ```ts
 * import { agentsModule, createGateway, nodesModule, toolsModule } from "@openclaw-ts/gateway";
 *
 * const agents = agentsModule();
 * const tools = toolsModule({ agents });
 * const gateway = createGateway({
 *   config: { gateway: { auth: { token: "s3cret" }, nodes: { commands: { allow: ["system.run"] } } } },
 *   modules: [agents, tools, nodesModule({ tools })],
 * });
 * await gateway.start();
 * const { nodes } = await gateway.call("node.list", {}) as { nodes: unknown[] };
 * if (nodes.length !== 0) throw new Error("no node has connected yet");
 * await gateway.stop();
 * ```
 */
export function nodesModule(options: NodesModuleOptions = {}): GatewayModule {
  return {
    name: "nodes",
    setup(context: GatewayContext) {
      const logger = context.logger.child("nodes");
      const store = context.stores.nodes;
      const config = () => context.config();
      const now = () => context.now();
      const registry = new NodeRegistry({ store, devices: context.stores.devices, config, now, logger });
      const invoker = new NodeInvoker({
        bus: context.bus,
        newId: () => crypto.randomUUID(),
        holds: (connId) => registry.local(connId) !== undefined,
      });
      context.onClient({
        connected: (client) => registry.connected(client),
        disconnected({ caller }) {
          if (caller.role !== "node") return;
          invoker.disconnected(caller.connId);
          registry.disconnected(caller.connId).catch((error) =>
            logger.warn("node row removal failed", { connId: caller.connId, error: String(error) })
          );
        },
      });
      for (const method of nodeMethods({ store, registry, invoker, config, now })) {
        context.registerMethod(method);
      }
      context.declareEvents(["node.invoke.request"]);

      const refresh = () =>
        registry.refresh().catch((error) =>
          logger.warn("node rows refresh failed", { error: String(error) })
        );
      const timer = setInterval(refresh, NODE_ROW_TTL_MS / 3);
      context.onConfigChange(refresh);
      context.onStop(followNodePairing(context, registry, logger));
      context.onStop(() => {
        clearInterval(timer);
        invoker.stop();
      });

      if (options.tools) {
        const withdraw = options.tools.addAgentTools(nodeToolSource(store, (input, run, signal) => {
          // The model acts for its run with write rights only: admin-only relays stay out of its reach.
          const caller: CallerIdentity = {
            connId: `run:${run.runId ?? "agent"}`,
            role: "operator",
            scopes: ["operator.write"],
            authMethod: "agent",
          };
          return context.callMethod("node.invoke", input, caller, signal);
        }));
        context.onStop(withdraw);
      }
    },
  };
}

/**
 * Re-evaluates this replica's sockets of a node whose pairing an operator resolved (on any replica), so
 * an approval takes effect on the live connection and a removal withdraws its commands at once.
 */
function followNodePairing(context: GatewayContext, registry: NodeRegistry, logger: Logger): () => void {
  return context.bus.subscribe((event) => {
    // The copies addressed to nodes (below) are not news to act on again.
    if (event.internal || event.connIds || event.event !== "node.pair.resolved") return;
    const resolved = event.payload as { nodeId?: unknown; decision?: unknown };
    if (typeof resolved.nodeId !== "string" || !resolved.nodeId) return;
    registry.repaired(resolved.nodeId).then((connIds) => {
      // As the reference, a live node hears of its own approval once its commands follow it.
      if (resolved.decision !== "approved" || !connIds.length) return;
      context.bus.publish({ event: "node.pair.resolved", payload: event.payload, connIds });
    }).catch((error) =>
      logger.warn("node surface refresh failed", { nodeId: resolved.nodeId, error: String(error) })
    );
  });
}
