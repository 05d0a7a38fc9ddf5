/**
 * Core gateway figures: handshake latency, health RPC throughput, and the resident memory of 1,000
 * authenticated sockets next to a bare Deno WebSocket server holding the same number.
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
const CONNECT = {
  minProtocol: 4,
  maxProtocol: 4,
  client: { id: "bench", version: "1", platform: "linux", mode: "backend" },
  role: "operator",
  scopes: ["operator.read"],
  auth: { token: "bench-token" },
};

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
  return { child, port: Number(text.trim()) };
}

function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Opens a socket and completes the protocol v4 handshake; resolves with the socket. */
function handshake(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    ws.onerror = () => reject(new Error("socket error"));
    ws.onmessage = (e) => {
      const frame = JSON.parse(e.data);
      if (frame.event === "connect.challenge") {
        ws.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: CONNECT }));
      } else if (frame.id === "c") {
        ws.onmessage = null;
        frame.ok ? resolve(ws) : reject(new Error(JSON.stringify(frame.error)));
      }
    };
  });
}

function openBare(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("socket error"));
  });
}

async function closeAll(sockets: WebSocket[]) {
  await Promise.all(sockets.map((ws) =>
    new Promise<void>((r) => {
      if (ws.readyState === WebSocket.CLOSED) return r();
      ws.onclose = () => r();
      ws.close();
    })
  ));
}

const rows: [string, string][] = [];
const gw = await spawnServer("gateway");

// Handshake latency, one at a time.
const times: number[] = [];
for (let i = 0; i < HANDSHAKES; i++) {
  const t0 = performance.now();
  const ws = await handshake(gw.port);
  times.push(performance.now() - t0);
  await closeAll([ws]);
}
times.sort((a, b) => a - b);
rows.push(["handshake p50 (ms)", percentile(times, 0.5).toFixed(2)]);
rows.push(["handshake p99 (ms)", percentile(times, 0.99).toFixed(2)]);

// Health RPC throughput: 8 clients, each keeps 16 requests in flight.
const clients = await Promise.all(Array.from({ length: 8 }, () => handshake(gw.port)));
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
      if (!String(e.data).startsWith('{"type":"res"')) return;
      completed++;
      inflight--;
      if (performance.now() < deadline) send();
      else if (inflight === 0) resolve();
    };
    for (let i = 0; i < 16; i++) send();
  })
));
rows.push(["health RPC/s (8 clients × 16 in flight)", Math.round(completed / SECONDS).toString()]);
await closeAll(clients);

// Memory: 1,000 authenticated sockets vs a bare server.
gw.child.kill("SIGTERM");
await gw.child.status;

/** Starts a server process, holds SOCKETS sockets open on it, and reads its RSS before and after. */
async function socketMemory(mode: string, open: (port: number) => Promise<WebSocket>) {
  const server = await spawnServer(mode);
  const idle = rssKiB(server.child.pid);
  const held: WebSocket[] = [];
  for (let i = 0; i < SOCKETS; i += 50) {
    held.push(
      ...await Promise.all(Array.from({ length: Math.min(50, SOCKETS - i) }, () => open(server.port))),
    );
  }
  await new Promise((r) => setTimeout(r, 300));
  const loaded = rssKiB(server.child.pid);
  await closeAll(held);
  server.child.kill("SIGTERM");
  await server.child.status;
  return { idle, loaded };
}

const { idle: idleGateway, loaded: loadedGateway } = await socketMemory("gateway", handshake);
const { idle: idleBare, loaded: loadedBare } = await socketMemory("bare", openBare);

const mib = (kib: number) => (kib / 1024).toFixed(1);
rows.push(["gateway RSS idle (MiB)", mib(idleGateway)]);
rows.push([`gateway RSS with ${SOCKETS} sockets (MiB)`, mib(loadedGateway)]);
rows.push([`gateway per-socket (KiB)`, ((loadedGateway - idleGateway) / SOCKETS).toFixed(1)]);
rows.push(["bare Deno ws RSS idle (MiB)", mib(idleBare)]);
rows.push([`bare Deno ws RSS with ${SOCKETS} sockets (MiB)`, mib(loadedBare)]);
rows.push([`bare per-socket (KiB)`, ((loadedBare - idleBare) / SOCKETS).toFixed(1)]);

console.log("| metric | value |\n| --- | --- |");
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
