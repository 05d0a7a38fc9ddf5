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

/** How many string objects in the snapshot at `path` have each text `select` picks. */
async function stringCounts(path: string, select: (text: string) => string | undefined) {
  const snapshot = JSON.parse(await Deno.readTextFile(path));
  const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
  const [type, name] = [fields.indexOf("type"), fields.indexOf("name")];
  const counts = new Map<string, number>();
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    if (types[snapshot.nodes[i + type]] !== "string") continue;
    const key = select(snapshot.strings[snapshot.nodes[i + name]]);
    if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
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
    for (let i = 0; i < SOCKETS; i++) {
      const { session, response } = await handshake(`ws://127.0.0.1:${port}`);
      assert.equal(response.ok, true);
      sessions.push(session);
    }
    const probe = await connectHeapProbe(inspectPort);
    await probe.snapshot(snapshotPath);
    probe.close();
    const counts = await stringCounts(
      snapshotPath,
      (s) =>
        UUID.test(s) ? "uuid" : ["operator.write", "gateway-client", "127.0.0.1"].includes(s) ? s : undefined,
    );
    // A handful of copies at most (the gateway's own literals), where each socket used to keep one.
    assert.ok((counts.get("operator.write") ?? 0) < 10, JSON.stringify([...counts]));
    assert.ok((counts.get("gateway-client") ?? 0) < 10, JSON.stringify([...counts]));
    assert.ok((counts.get("127.0.0.1") ?? 0) < 10, JSON.stringify([...counts]));
    // One connection id per socket; its nonce (another UUID) no longer.
    assert.ok((counts.get("uuid") ?? 0) < SOCKETS * 1.5, JSON.stringify([...counts]));
  } finally {
    for (const session of sessions) session.ws.close();
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await Deno.remove(snapshotPath);
  }
});
