// A node socket that closes while its `connected` is still running (the first one imports the nodes
// runtime) leaves no row behind: its `disconnected` waits for `connected` instead of finding nothing to remove.
import assert from "node:assert/strict";
import { memoryStores, nodesModule } from "../mod.ts";
import type { ClientListener, ConnectedClient, GatewayContext, GatewayModule } from "../mod.ts";
import { startGateway } from "./_helpers.ts";

/** The nodes module, with the client listener it registers handed to the test instead of the gateway. */
function nodesWithListener(): { module: GatewayModule; listener: () => ClientListener } {
  const nodes = nodesModule();
  let listener: ClientListener | undefined;
  const module: GatewayModule = {
    name: "nodes",
    setup(context) {
      const spied = new Proxy(context, {
        get(target, key) {
          if (key === "onClient") return (heard: ClientListener) => (listener = heard, () => {});
          const value = Reflect.get(target, key);
          return typeof value === "function" ? value.bind(target) : value;
        },
      }) as GatewayContext;
      return nodes.setup(spied);
    },
  };
  return { module, listener: () => listener! };
}

Deno.test("nodes: a node that disconnects during the first load leaves no row", async () => {
  const stores = memoryStores();
  const { module, listener } = nodesWithListener();
  const gateway = await startGateway({ stores, modules: [module] });
  try {
    const client = {
      caller: { connId: "conn-1", role: "node", scopes: [], deviceId: "node-1", authMethod: "device" },
      connect: { client: { id: "node-host", mode: "node", version: "1.0.0", platform: "linux" } },
    } as unknown as ConnectedClient;
    const connected = listener().connected!(client);
    listener().disconnected!(client);
    await connected;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(
      (await stores.nodes.list()).map((node) => node.connId),
      [],
      "a ghost row outlived its socket",
    );
  } finally {
    await gateway.stop();
  }
});
