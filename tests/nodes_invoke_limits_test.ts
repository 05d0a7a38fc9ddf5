// node.invoke waits a timer can hold: a timeoutMs past 2^31-1 ms is cut to the limit, never fired at once
// (which would time the invoke out while the node still runs it, and a retry would run it twice).
import assert from "node:assert/strict";
import { InProcessEventBus } from "../lib/bus/event-bus.ts";
import { NodeInvoker } from "../lib/nodes/invoke.ts";
import { DEVICE_INFO_NODE } from "./_node_row.ts";

Deno.test("a timeoutMs longer than a timer can wait does not time out at once; the node's answer is taken", async () => {
  const bus = new InProcessEventBus();
  const invoker = new NodeInvoker({
    bus,
    newId: () => "inv1",
    holds: () => true,
    replicaId: "a",
    now: Date.now,
  });
  const node = DEVICE_INFO_NODE;
  const outcome = invoker.invoke(
    { node, command: "device.info", timeoutMs: 3_000_000_000 },
    new AbortController().signal,
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(
    invoker.result("c1", { id: "inv1", nodeId: "n1", ok: true }),
    true,
    "the invoke is still waiting",
  );
  assert.equal((await outcome).ok, true);
  invoker.stop();
});
