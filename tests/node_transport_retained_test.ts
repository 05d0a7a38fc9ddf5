// What 200 authenticated sockets on the Node transport keep, read from a heap snapshot of the gateway's
// process: the strings every `connect` repeats (scopes, the client id, the peer address) are kept once, not
// once per socket, and the challenge's nonce goes with the handshake (only the connection id stays a string
// per socket).
import assert from "node:assert/strict";
import { connectHeapProbe } from "../bench/_heap.ts";
import { handshake, type WsSession } from "./_evidence_clients.ts";
import { freePort } from "./_runner_process.ts";
import { TOKEN } from "./_helpers.ts";

const SOCKETS = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * How many string objects in the snapshot at `path` have each text `select` picks, and how many objects
 * refer to one of them (`<text> referrers`: a list of scopes held by each socket is one referrer each).
 */
async function stringCounts(path: string, select: (text: string) => string | undefined) {
  const snapshot = JSON.parse(await Deno.readTextFile(path));
  const { node_fields: fields, node_types: [types], edge_fields: edgeFields } = snapshot.snapshot.meta;
  const [type, name, edgeCount] = ["type", "name", "edge_count"].map((f) => fields.indexOf(f));
  const toNode = edgeFields.indexOf("to_node");
  const nodes: number[] = snapshot.nodes;
  const counts = new Map<string, number>();
  const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const picked = (at: number) =>
    types[nodes[at + type]] === "string" ? select(snapshot.strings[nodes[at + name]]) : undefined;
  let edge = 0;
  for (let at = 0; at < nodes.length; at += fields.length) {
    const key = picked(at);
    if (key) count(key);
    const referred = new Set<string>();
    for (let e = 0; e < nodes[at + edgeCount]; e++, edge += edgeFields.length) {
      const target = picked(snapshot.edges[edge + toNode]);
      if (target) referred.add(target);
    }
    for (const target of referred) count(`${target} referrers`);
  }
  return counts;
}

Deno.test("node transport: a socket keeps no copy of the strings every connect repeats, nor its nonce", async () => {
  const inspectPort = freePort();
  // The gateway as bench/cluster.ts runs it on the Node transport: under Node, which prints its port.
  const child = new Deno.Command("node", {
    args: [`--inspect=127.0.0.1:${inspectPort}`, "--import", "tsx", "bench/_node_gateway.ts", TOKEN],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const sessions: WsSession[] = [];
  const snapshotPath = await Deno.makeTempFile({ suffix: ".heapsnapshot" });
  try {
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) text += (await lines.read()).value ?? "";
    lines.releaseLock();
    const port = Number(text.trim());
    const probe = await connectHeapProbe(inspectPort);
    const pick = (s: string) =>
      UUID.test(s) ? "uuid" : ["operator.write", "gateway-client", "127.0.0.1"].includes(s) ? s : undefined;
    // What the gateway holds of these strings before any socket (its literals, method tables): the
    // sockets are judged by what they add to it.
    await probe.snapshot(snapshotPath);
    const idle = await stringCounts(snapshotPath, pick);
    for (let i = 0; i < SOCKETS; i++) {
      const { session, response } = await handshake(`ws://127.0.0.1:${port}`);
      assert.equal(response.ok, true);
      sessions.push(session);
    }
    await probe.snapshot(snapshotPath);
    probe.close();
    const held = await stringCounts(snapshotPath, pick);
    const added = (key: string) => (held.get(key) ?? 0) - (idle.get(key) ?? 0);
    const all = JSON.stringify({ idle: [...idle], held: [...held] });
    // A handful of copies at most, where each socket used to keep one.
    assert.ok(added("operator.write") < 10, all);
    // Sockets with the same scopes share one list of them.
    assert.ok(added("operator.write referrers") < 10, all);
    assert.ok(added("gateway-client") < 10, all);
    assert.ok(added("127.0.0.1") < 10, all);
    // One connection id per socket; its nonce (another UUID) no longer.
    assert.ok(added("uuid") < SOCKETS * 1.5, all);
  } finally {
    for (const session of sessions) session.ws.close();
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await Deno.remove(snapshotPath);
  }
});
