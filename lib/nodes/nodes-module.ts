/**
 * Nodes as a gateway module: sockets that connect with `role: "node"` (OpenClaw's mobile and desktop
 * apps, headless node hosts) are registered in `stores.nodes`, operators list and invoke them, and — when
 * given the tools module — agent runs call their commands as tools. The registry, the invoker and the
 * methods' schemas (`nodes-runtime.ts`) are imported once a node connects or a `node.*` method is called.
 *
 * @module
 */
import { lazyMethods } from "../methods/lazy.ts";
import { once } from "../once.ts";
import { type MethodScope, NODE_ROLE_SCOPE } from "../protocol/scopes.ts";
import type { CallerIdentity, GatewayContext, GatewayModule } from "../types.ts";
import type { ToolsModule } from "../tools/tools-module.ts";
import { nodeToolSource } from "./agent-tools.ts";
import type { NodesRuntime } from "./nodes-runtime.ts";

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
      const load = once((): Promise<NodesRuntime> =>
        import("./nodes-runtime.ts").then(({ startNodes }) => startNodes(context))
      );
      // Node sockets whose `connected` still runs (the first one imports the runtime): a socket that closes
      // meanwhile is forgotten after it, or its row would be written after the removal and outlive it.
      const connecting = new Map<string, Promise<void>>();
      context.onClient({
        connected(client) {
          const { role, connId } = client.caller;
          if (role !== "node") return;
          const done = load().then((nodes) => nodes.registry.connected(client))
            .finally(() => connecting.delete(connId));
          connecting.set(connId, done);
          return done;
        },
        disconnected({ caller }) {
          if (caller.role !== "node") return;
          const after = connecting.get(caller.connId)?.catch(() => {}) ?? Promise.resolve();
          after.then(() => load.started?.then((nodes) => nodes.disconnected(caller.connId)));
        },
      });
      for (const method of lazyMethods(NODE_METHODS, async () => (await load()).methods)) {
        context.registerMethod(method);
      }
      context.declareEvents(["node.invoke.request"]);
      context.onStop(() => load.started?.then((nodes) => nodes.stop()));

      if (options.tools) {
        const withdraw = options.tools.addAgentTools(
          nodeToolSource(context.stores.nodes, (input, run, signal) => {
            // The model acts for its run with write rights only: admin-only relays stay out of its reach.
            const caller: CallerIdentity = {
              connId: `run:${run.runId ?? "agent"}`,
              role: "operator",
              scopes: ["operator.write"],
              authMethod: "agent",
            };
            return context.callMethod("node.invoke", input, caller, signal);
          }),
        );
        context.onStop(withdraw);
      }
    },
  };
}

/** The node methods and their scopes, known before the rest of nodes loads. */
export const NODE_METHODS: Readonly<Record<string, MethodScope>> = {
  "node.list": "operator.read",
  "node.describe": "operator.read",
  "node.invoke": "operator.write",
  "node.invoke.result": NODE_ROLE_SCOPE,
  "node.event": NODE_ROLE_SCOPE,
};
