import "./_record.ts";
/**
 * Core gateway figures on both transports (Deno: the hardened engine and the native Deno.serve one), each beside its floor (a bare WebSocket server doing only a
 * minimal challenge/connect exchange): handshake latency, sequential RPC round trips on one socket,
 * pipelined health throughput, and the time and resident memory to hold N authenticated sockets.
 * Every server runs in its own process; RSS is read from /proc.
 *
 *   deno run -A bench/core_gateway.ts [--sockets 1000] [--handshakes 300] [--seconds 3]
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    sockets: { type: "string", default: "1000" },
    handshakes: { type: "string", default: "300" },
    seconds: { type: "string", default: "3" },
  },
});
const SOCKETS = Number(values.sockets);
const HANDSHAKES = Number(values.handshakes);
const SECONDS = Number(values.seconds);
const CONNECT = JSON.stringify({
  type: "req",
  id: "c",
  method: "connect",
  params: {
    minProtocol: 4,
    maxProtocol: 4,
    // The local backend: device-less, it keeps its read scope on loopback (docs/security.md).
    client: { id: "gateway-client", version: "1", platform: "linux", mode: "backend" },
    role: "operator",
    scopes: ["operator.read"],
    auth: { token: "bench-token" },
  },
});

async function spawnServer(mode: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./_core_server.ts", import.meta.url).pathname, mode],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) text += (await reader.read()).value ?? "";
  reader.releaseLock();
  await new Promise((r) => setTimeout(r, 500)); // let start-up garbage settle before reading idle RSS
  return { child, port: Number(text.trim()) };
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Opens a socket and completes challenge → connect → response; resolves with the socket. */
function handshake(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    ws.onerror = () => reject(new Error("socket error"));
    ws.onmessage = (e) => {
      const frame = JSON.parse(e.data);
      if (frame.event === "connect.challenge") ws.send(CONNECT);
      else if (frame.id === "c") {
        ws.onmessage = null;
        frame.ok ? resolve(ws) : reject(new Error(JSON.stringify(frame.error)));
      }
    };
  });
}

function closeAll(sockets: WebSocket[]): Promise<void[]> {
  return Promise.all(sockets.map((ws) =>
    new Promise<void>((r) => {
      if (ws.readyState === WebSocket.CLOSED) return r();
      ws.onclose = () => r();
      ws.close();
    })
  ));
}

function isResponse(data: unknown): boolean {
  return String(data).startsWith('{"type":"res"');
}

async function handshakeLatency(port: number) {
  const times: number[] = [];
  for (let i = 0; i < HANDSHAKES; i++) {
    const t0 = performance.now();
    const ws = await handshake(port);
    times.push(performance.now() - t0);
    await closeAll([ws]);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/** Sequential `health` round trips on one socket for SECONDS. */
async function roundTrips(port: number): Promise<number> {
  const ws = await handshake(port);
  let done = 0;
  const deadline = performance.now() + SECONDS * 1000;
  await new Promise<void>((resolve) => {
    const send = () => ws.send(JSON.stringify({ type: "req", id: `h${done}`, method: "health", params: {} }));
    ws.onmessage = (e) => {
      if (!isResponse(e.data)) return;
      done++;
      performance.now() < deadline ? send() : resolve();
    };
    send();
  });
  await closeAll([ws]);
  return done / SECONDS;
}

/** 8 sockets × 16 requests in flight for SECONDS. */
async function pipelined(port: number): Promise<number> {
  const clients = await Promise.all(Array.from({ length: 8 }, () => handshake(port)));
  let completed = 0;
  const deadline = performance.now() + SECONDS * 1000;
  await Promise.all(clients.map((ws, c) =>
    new Promise<void>((resolve) => {
      let next = 0;
      let inflight = 0;
      const send = () => {
        inflight++;
        ws.send(JSON.stringify({ type: "req", id: `${c}-${next++}`, method: "health", params: {} }));
      };
      ws.onmessage = (e) => {
        if (!isResponse(e.data)) return;
        completed++;
        inflight--;
        if (performance.now() < deadline) send();
        else if (inflight === 0) resolve();
      };
      for (let i = 0; i < 16; i++) send();
    })
  ));
  await closeAll(clients);
  return completed / SECONDS;
}

/** Connects SOCKETS authenticated sockets in batches of 50; returns the time it took and the RSS. */
async function holdSockets(port: number, pid: number) {
  const held: WebSocket[] = [];
  const t0 = performance.now();
  for (let i = 0; i < SOCKETS; i += 50) {
    held.push(...await Promise.all(Array.from({ length: Math.min(50, SOCKETS - i) }, () => handshake(port))));
  }
  const connectMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 300));
  const rss = rssKiB(pid);
  await closeAll(held);
  return { connectMs, rss };
}

async function measure(mode: string) {
  const server = await spawnServer(mode);
  const idle = rssKiB(server.child.pid);
  const latency = await handshakeLatency(server.port);
  const rtt = await roundTrips(server.port);
  const rps = await pipelined(server.port);
  const held = await holdSockets(server.port, server.child.pid);
  server.child.kill("SIGTERM");
  await server.child.status;
  return { idle, latency, rtt, rps, held };
}

const mib = (kib: number) => (kib / 1024).toFixed(1);
console.log(
  `| server | handshake p50 ms | p99 ms | health round trips/s (1 socket) | health/s (8×16 pipelined) | connect ${SOCKETS} sockets ms | idle RSS MiB | RSS with ${SOCKETS} MiB |`,
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const mode of ["bare-deno", "gateway-deno", "gateway-deno-native", "bare-node", "gateway-node"]) {
  const m = await measure(mode);
  console.log(
    `| ${mode} | ${m.latency.p50.toFixed(2)} | ${m.latency.p99.toFixed(2)} | ${Math.round(m.rtt)} | ${
      Math.round(m.rps)
    } | ${Math.round(m.held.connectMs)} | ${mib(m.idle)} | ${mib(m.held.rss)} |`,
  );
}
