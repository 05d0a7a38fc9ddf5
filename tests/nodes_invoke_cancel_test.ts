// An invoke whose asker goes away is forgotten by the replica holding the node, even without a timeout.
import assert from "node:assert/strict";
import { InProcessEventBus } from "../lib/bus/event-bus.ts";
import { askerAndHolder, DEVICE_INFO_NODE } from "./_node_row.ts";

const node = DEVICE_INFO_NODE;

Deno.test("node.invoke with timeoutMs 0: the holder forgets it when the asker disconnects", async () => {
  const bus = new InProcessEventBus();
  const { asker, holder } = askerAndHolder(bus, () => "inv1", Date.now);
  const requests: unknown[] = [];
  bus.subscribe((event) => event.event === "node.invoke.request" && requests.push(event.payload));
  const disconnect = new AbortController();
  const outcome = asker.invoke({ node, command: "device.info", timeoutMs: 0 }, disconnect.signal);
  while (!requests.length) await new Promise((resolve) => setTimeout(resolve, 5));
  disconnect.abort();
  assert.equal((await outcome).error?.code, "ABORTED");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(
    holder.result("c1", { id: "inv1", nodeId: "n1", ok: true }),
    false,
    "nothing of the cancelled invoke is left on the holder",
  );
  asker.stop();
  holder.stop();
});
