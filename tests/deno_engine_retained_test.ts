// What an authenticated socket on the Deno transport's hardened engine keeps, read from a heap snapshot of
// the gateway's process: not the upgrade request it came from (a fetch `Request`, with its headers and
// their closures). The socket used to run inside the async frame that built the request, and a suspended
// frame keeps every local it has: 4 KiB more per socket.
import assert from "node:assert/strict";
import { connectHeapProbe } from "../bench/_heap.ts";
import { handshake, type WsSession } from "./_evidence_clients.ts";
import { connectParams } from "./_helpers.ts";
import { freePort } from "./_runner_process.ts";

const SOCKETS = 100;

/** How many objects of each constructor named in `names` the snapshot at `path` holds. */
async function objectCounts(path: string, names: string[]): Promise<Record<string, number>> {
  const snapshot = JSON.parse(await Deno.readTextFile(path));
  const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
  const [type, name] = ["type", "name"].map((f) => fields.indexOf(f));
  const nodes: number[] = snapshot.nodes;
  const counts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (let at = 0; at < nodes.length; at += fields.length) {
    const constructor = snapshot.strings[nodes[at + name]];
    if (types[nodes[at + type]] === "object" && constructor in counts) counts[constructor]++;
  }
  return counts;
}

Deno.test("deno engine: an authenticated socket keeps no upgrade Request", async () => {
  const inspectPort = freePort();
  // The gateway as bench/core_gateway.ts runs it on the hardened engine; it prints its port.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--inspect=127.0.0.1:${inspectPort}`, "bench/_core_server.ts", "gateway-deno"],
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
    const params = connectParams({ auth: { token: "bench-token" } });
    for (let i = 0; i < SOCKETS; i++) {
      const { session, response } = await handshake(`ws://127.0.0.1:${port}`, params);
      assert.equal(response.ok, true);
      sessions.push(session);
    }
    await probe.snapshot(snapshotPath);
    probe.close();
    const counts = await objectCounts(snapshotPath, ["Request", "EngineWebSocket"]);
    // The sockets are there; their requests, one each before, are not.
    assert.ok(counts.EngineWebSocket >= SOCKETS, JSON.stringify(counts));
    assert.ok(counts.Request < 10, JSON.stringify(counts));
  } finally {
    for (const session of sessions) session.ws.close();
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await Deno.remove(snapshotPath);
  }
});
