// Broadcast fan-out: what each fan-out reports (the metric bench/cluster.ts reads), and the hardened Deno
// engine's frames, which since broadcasts cut them from shared slabs must stay byte for byte what a frame
// built on its own would be, and count in `bufferedAmount` while the peer does not read.
import assert from "node:assert/strict";
import { metricsModule } from "../mod.ts";
import { ReadBuffer } from "../lib/transports/deno/read-buffer.ts";
import { EngineWebSocket } from "../lib/transports/deno/websocket-socket.ts";
import { recordingConn, textFrame } from "./_engine_conn.ts";
import { client, startGateway } from "./_helpers.ts";

Deno.test("fan-out: each event that reaches sockets is timed and counted per event in the metrics", async () => {
  const metrics = metricsModule();
  const gateway = await startGateway({ modules: [metrics] });
  const clients = await Promise.all([client(gateway), client(gateway), client(gateway)]);
  gateway.bus.publish({ event: "custom.wide", payload: { n: 1 } });
  gateway.bus.publish({ event: "custom.narrow", payload: {}, connIds: ["nobody"] });
  await Promise.all(clients.map((c) => c.socket.waitFor((f) => f.event === "custom.wide")));
  const { text } = await gateway.call("metrics.snapshot") as { text: string };
  assert.match(text, /^openclaw_gateway_event_fanout_seconds_count\{event="custom\.wide"\} 1$/m);
  assert.match(text, /^openclaw_gateway_event_deliveries_total\{event="custom\.wide"\} 3$/m);
  const sum = Number(
    /^openclaw_gateway_event_fanout_seconds_sum\{event="custom\.wide"\} (\S+)$/m.exec(text)?.[1],
  );
  assert.ok(sum > 0 && sum < 1, `fan-out took ${sum} s`);
  // An event no socket here takes is not a fan-out.
  assert.doesNotMatch(text, /custom\.narrow/);
  await gateway.stop();
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) out.set(part, (at += part.length) - part.length);
  return out;
}

const TEXTS = [
  "",
  "x".repeat(125),
  "x".repeat(126),
  `{"type":"event","event":"chat","payload":{"text":"🦀 — é"},"seq":7}`,
  "é".repeat(5000),
  "y".repeat(6000),
  "z".repeat(70_000),
];

Deno.test("hardened engine: frames sent straight away and frames queued behind a write are the same bytes", async () => {
  for (const stall of [false, true]) {
    const { conn, written, release } = recordingConn(stall);
    const socket = new EngineWebSocket(conn, new ReadBuffer(conn, () => {}), 1_000);
    // Many small frames in a row, as a broadcast makes: they fill and roll over slabs.
    const texts = [
      ...TEXTS,
      ...Array.from({ length: 2_000 }, (_, i) => `{"seq":${i},"pad":"${"p".repeat(i % 90)}"}`),
    ];
    for (const text of texts) socket.send(text);
    release();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(concat(written), concat(texts.map(textFrame)), `stalled: ${stall}`);
    assert.equal(socket.bufferedAmount(), 0);
  }
});

Deno.test("hardened engine: frames waiting on a peer that does not read count in bufferedAmount", () => {
  const { conn } = recordingConn(true);
  const socket = new EngineWebSocket(conn, new ReadBuffer(conn, () => {}), 1_000);
  let bytes = 0;
  for (let i = 0; i < 500; i++) {
    const text = `{"type":"event","event":"presence","payload":{"presence":[]},"seq":${i}}`;
    socket.send(text);
    bytes += textFrame(text).length;
  }
  // The first frame is with the stalled write, the rest are queued: none has been taken by the peer.
  assert.equal(socket.bufferedAmount(), bytes);
});
