// node.invoke across replicas: the replica holding the node never keeps an invoke for ever. It forgets one
// past its deadline (an untimed one too), and one whose asking replica has left the peers, since a dead
// asker never cancels and a cancel lost while the bus was down never arrives.
import assert from "node:assert/strict";
import { InProcessEventBus } from "../lib/bus/event-bus.ts";
import { NodeInvoker, UNTIMED_INVOKE_LIMIT_MS } from "../lib/nodes/invoke.ts";
import { MemoryPeerRegistry } from "../lib/state/peers.ts";
import { askerAndHolder, DEVICE_INFO_NODE } from "./_node_row.ts";

const node = DEVICE_INFO_NODE;

/** Replica "a" asks, replica "b" holds the node's socket; one bus stands for Redis pub/sub. */
function twoReplicas() {
  const bus = new InProcessEventBus();
  const clock = { now: 1_000_000 };
  let next = 0;
  const { asker, holder } = askerAndHolder(bus, () => `inv${++next}`, () => clock.now);
  const requests: { id: string; timeoutMs: number }[] = [];
  bus.subscribe((event) => {
    if (event.event === "node.invoke.request") {
      requests.push(event.payload as { id: string; timeoutMs: number });
    }
  });
  const ask = (timeoutMs: number) => {
    const abort = new AbortController();
    const outcome = asker.invoke({ node, command: "device.info", timeoutMs }, abort.signal);
    return { id: requests.at(-1)!.id, outcome, abort };
  };
  const answer = (id: string) => holder.result("c1", { id, nodeId: "n1", ok: true });
  return { clock, asker, holder, requests, ask, answer, stop: () => (asker.stop(), holder.stop()) };
}

Deno.test("an untimed node.invoke held for another replica is forgotten past the untimed limit", async () => {
  const replicas = twoReplicas();
  try {
    const early = replicas.ask(0);
    const late = replicas.ask(0);
    assert.equal(replicas.requests[0].timeoutMs, 0, "the node is told what the asker asked");
    replicas.clock.now += UNTIMED_INVOKE_LIMIT_MS;
    replicas.holder.sweep();
    assert.equal(replicas.answer(early.id), true, "still taken within the limit");
    assert.equal((await early.outcome).ok, true);
    replicas.clock.now += 10_000;
    replicas.holder.sweep();
    assert.equal(replicas.answer(late.id), false, "forgotten past the limit (and its grace)");
    late.abort.abort();
  } finally {
    replicas.stop();
  }
});

Deno.test("the holder forgets an invoke whose asking replica died, and keeps a live asker's", async () => {
  const replicas = twoReplicas();
  try {
    const kept = replicas.ask(0);
    replicas.holder.sweep(new Set(["a", "b"]));
    assert.equal(replicas.answer(kept.id), true, "the asker is alive: kept");
    assert.equal((await kept.outcome).ok, true);

    const orphan = replicas.ask(0);
    assert.equal(replicas.holder.holdsForOthers(), true);
    // Replica "a" is killed: nothing cancels, and after its TTL it is no longer among the peers.
    const peers = new MemoryPeerRegistry(() => replicas.clock.now);
    await peers.announce({ replicaId: "a", host: "h", startedAt: 0 }, 15_000);
    await peers.announce({ replicaId: "b", host: "h", startedAt: 0 }, 60_000);
    replicas.clock.now += 20_000;
    replicas.holder.sweep(new Set((await peers.list()).map((peer) => peer.replicaId)));
    assert.equal(replicas.holder.holdsForOthers(), false);
    assert.equal(replicas.answer(orphan.id), false, "nothing of the dead asker's invoke is left");
    orphan.abort.abort();
  } finally {
    replicas.stop();
  }
});

Deno.test("the holder's own invokes are not swept when it is missing from the peers list", async () => {
  const bus = new InProcessEventBus();
  const one = new NodeInvoker({ bus, newId: () => "own", holds: () => true, replicaId: "b", now: Date.now });
  try {
    const outcome = one.invoke({ node, command: "device.info", timeoutMs: 0 }, new AbortController().signal);
    assert.equal(one.holdsForOthers(), false);
    one.sweep(new Set());
    assert.equal(one.result("c1", { id: "own", nodeId: "n1", ok: true }), true);
    assert.equal((await outcome).ok, true);
  } finally {
    one.stop();
  }
});
