// bench/soak.ts `--phase hostile`: healthy clients (stateless chat completions) alone for a quiet stretch,
// then beside a bounded crowd of attackers for as long again — half-sent bodies, idle sockets, oversize
// pre-auth frames, chunked floods to the webhook channel, wrong tokens over HTTP and WS. Every interval
// prints RSS, descriptors and the healthy clients' p99, so the two stretches can be compared.
import { Buffer } from "node:buffer";
import { type RawConn, rawConnect, rawWs, waitUntil, write } from "./_attacks.ts";
import { startLoadUpstream } from "./_load_upstream.ts";
import { sharedConfig, startTarget } from "./_targets.ts";
import { openFds, percentile, printTable, treeRssMiB } from "./_workload.ts";

const TOKEN = "soak-token-0123456789abcdef";
const HEALTHY_CLIENTS = 8;
/** Idle sockets the attackers keep open at any time (reopened as the gateway closes them). */
const IDLE_SOCKETS = 200;
const MiB = 1024 * 1024;

export async function hostileMix(seconds: number, every: number): Promise<void> {
  const upstream = startLoadUpstream();
  const target = await startTarget("ours", (port) => ({
    ...sharedConfig(port, TOKEN, upstream.url),
    channels: { webhook: { secret: "webhook-secret", outboundUrl: "http://127.0.0.1:9/" } },
  }));
  let phase: "quiet" | "hostile" | "done" = "quiet";
  const times: number[] = [];
  const counts = { ok: 0, errors: 0, halfBodies: 0, idle: 0, frames: 0, chunked: 0, wrongTokens: 0 };
  const body = JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "soak" }] });
  const healthy = async () => {
    while (phase !== "done") {
      const t0 = performance.now();
      try {
        const res = await fetch(`${target.httpBase}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body,
        });
        await res.text();
        if (res.ok) counts.ok++;
        else counts.errors++;
        times.push(performance.now() - t0);
      } catch {
        counts.errors++;
        await waitUntil(50);
      }
    }
  };
  const attacking = () => phase === "hostile";
  /** Runs `step` again and again while the hostile stretch lasts; failures are the attacker's problem. */
  const attacker = async (step: () => Promise<void>) => {
    while (attacking()) await step().catch(() => waitUntil(100));
  };
  const idle: RawConn[] = [];
  const port = target.port;
  const attackers = () => [
    attacker(async () => {
      const c = await rawConnect(port);
      await write(c, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"a":');
      await waitUntil(50);
      c.socket.destroy();
      counts.halfBodies++;
    }),
    attacker(async () => {
      for (let i = idle.length - 1; i >= 0; i--) if (idle[i].isClosed()) idle.splice(i, 1);
      while (idle.length < IDLE_SOCKETS) {
        idle.push(await rawConnect(port));
        counts.idle++;
      }
      await waitUntil(500);
    }),
    attacker(async () => {
      const ws = await rawWs(port);
      await Promise.race([ws.frame(0x1, new Uint8Array(8 * MiB).fill(0x61)), waitUntil(5000)]);
      ws.conn.socket.destroy();
      counts.frames++;
      await waitUntil(1000);
    }),
    attacker(async () => {
      const c = await rawConnect(port);
      await write(
        c,
        "POST /channels/webhook/inbound HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      const chunk = Buffer.concat([Buffer.from("100000\r\n"), Buffer.alloc(MiB, 0x61), Buffer.from("\r\n")]);
      for (let i = 0; i < 32 && !c.isClosed() && attacking(); i++) {
        if (!await Promise.race([write(c, chunk).then(() => true), waitUntil(2000).then(() => false)])) break;
      }
      c.socket.destroy();
      counts.chunked++;
    }),
    attacker(async () => {
      const res = await fetch(`${target.httpBase}/v1/models`, { headers: { authorization: "Bearer wrong" } });
      await res.body?.cancel();
      const ws = await rawWs(port);
      await waitUntil(1000, () => ws.messages().length > 0 || ws.conn.isClosed());
      await ws.text(JSON.stringify({
        type: "req",
        id: "c",
        method: "connect",
        params: {
          minProtocol: 4,
          maxProtocol: 4,
          client: { id: "x", version: "1", platform: "linux", mode: "backend" },
          role: "operator",
          auth: { token: "wrong" },
        },
      }));
      await waitUntil(1000, () => ws.conn.isClosed());
      ws.conn.socket.destroy();
      counts.wrongTokens += 2;
      await waitUntil(100);
    }),
  ];

  const rows: (string | number)[][] = [];
  const started = performance.now();
  let last = { ...counts };
  const sample = () => {
    const sorted = times.splice(0).sort((a, b) => a - b);
    rows.push([
      `${Math.round((performance.now() - started) / 1000)} s`,
      phase,
      treeRssMiB(target.pid).toFixed(1),
      openFds(target.pid),
      counts.ok - last.ok,
      counts.errors - last.errors,
      sorted.length ? percentile(sorted, 0.99).toFixed(1) : "",
      `${counts.halfBodies - last.halfBodies} / ${counts.idle - last.idle} / ${
        counts.frames - last.frames
      } / ${counts.chunked - last.chunked} / ${counts.wrongTokens - last.wrongTokens}`,
    ]);
    console.error(`[soak hostile] ${rows.at(-1)!.join(" | ")}`);
    last = { ...counts };
  };
  const sampler = setInterval(sample, every * 1000);
  const clients = Array.from({ length: HEALTHY_CLIENTS }, healthy);
  await waitUntil(seconds * 1000);
  phase = "hostile";
  const attacks = attackers();
  await waitUntil(seconds * 1000);
  phase = "done";
  await Promise.all([...clients, ...attacks]);
  clearInterval(sampler);
  idle.forEach((c) => c.socket.destroy());
  await waitUntil(5000);
  sample();
  rows.at(-1)![1] = "5 s after the attackers left";
  await target.stop();
  await upstream.close();

  console.log(
    `\nhostile mix: ${HEALTHY_CLIENTS} healthy clients, ${seconds} s quiet then ${seconds} s under attack\n`,
  );
  printTable(
    [
      "t",
      "phase",
      "RSS (MiB)",
      "fds",
      "healthy ok",
      "healthy errors",
      "healthy p99 ms",
      "attacks: half bodies / idle sockets / 8 MiB frames / 32 MiB chunked / wrong tokens",
    ],
    rows,
  );
}
