/**
 * The hostile cases of the per-client limits, run against in-process gateways on loopback, printed as
 * attack / expected / observed rows: a pre-auth socket flood from one address, one socket queuing
 * 2,000 agent runs on a slow model, invented HTTP methods against the metrics series cap, and TRACE.
 *
 *   deno run -A bench/hardening_limits.ts
 */
import "./_record.ts";
import WebSocket from "ws";
import { agentsModule } from "../lib/agents/mod.ts";
import { metricsModule, parseExposition, PROMETHEUS_PATH } from "../lib/metrics/mod.ts";
import { LocalProvider } from "../lib/providers/local.ts";
import { createGateway, type GatewayOptions } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { connectParams, printTable } from "./_workload.ts";

const TOKEN = "bench-token-0123456789";
const rows: string[][] = [];

async function listening(options: GatewayOptions = {}) {
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    transport: denoTransport(),
    hostname: "127.0.0.1",
    port: 0,
    timing: { drainTimeoutMs: 10 },
    ...options,
  });
  const { port } = (await gateway.start())!;
  return { gateway, port, url: `ws://127.0.0.1:${port}` };
}

/** Opens a pre-auth socket from `localAddress`: the open socket, or the refused upgrade's status. */
function preAuth(url: string, localAddress = "127.0.0.1"): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress });
    ws.on("message", () => resolve({ ws }));
    ws.on("unexpected-response", (_req, res) => {
      res.resume();
      ws.terminate();
      resolve({ status: res.statusCode });
    });
    ws.on("error", () => resolve({ status: -1 }));
  });
}

type Res = { ok: boolean; error?: { code: string } };

/** An authenticated socket with a request helper. */
async function session(url: string) {
  const ws = new WebSocket(url);
  const waiting = new Map<string, (frame: Res) => void>();
  ws.on("message", (data) => {
    const frame = JSON.parse(String(data));
    if (frame.type === "res") waiting.get(frame.id)?.(frame);
  });
  await new Promise((resolve) => ws.once("message", resolve));
  const request = (id: string, method: string, params: unknown) =>
    new Promise<Res>((resolve) => {
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ type: "req", id, method, params }));
    });
  await request("connect", "connect", connectParams(TOKEN));
  return { ws, request };
}

{
  const { gateway, url } = await listening();
  const flood: { ws?: WebSocket; status?: number }[] = [];
  for (let i = 0; i < 1000; i += 100) {
    flood.push(...await Promise.all(Array.from({ length: 100 }, () => preAuth(url))));
  }
  const other = await preAuth(url, "127.0.0.2");
  rows.push([
    "1,000 unauthenticated sockets from 127.0.0.1, then one from 127.0.0.2",
    "64 held, the rest 503; 127.0.0.2 admitted",
    `${flood.filter((s) => s.ws).length} held, ${flood.filter((s) => s.status === 503).length} got 503; ` +
    `127.0.0.2 ${other.ws ? "admitted" : `got ${other.status}`}`,
  ]);
  for (const s of [...flood, other]) s.ws?.terminate();
  await gateway.stop();
}

{
  // Drops its abort listener when done: a listener left on a run's signal keeps its timeout timer alive.
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  const agents = agentsModule({ providers: { local: new LocalProvider({ delayMs: 20, sleep }) } });
  const { gateway, url } = await listening({ modules: [agents] });
  const flooder = await session(url);
  const answers: Res[] = [];
  for (let i = 0; i < 2000; i++) {
    flooder.request(`a${i}`, "agent", { message: `task ${i}`, sessionKey: `s-${i}`, idempotencyKey: `k${i}` })
      .then((answer) => answers.push(answer));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  let started = 0;
  agents.runtime().onRunEvent((run, event) => {
    if (event.type === "start" && run.origin.kind === "chat") started = performance.now();
  });
  const victim = await session(url);
  const sentAt = performance.now();
  const acked = await Promise.race([
    victim.request("v", "chat.send", { sessionKey: "main", message: "hi", idempotencyKey: "v1" }),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 10_000)),
  ]);
  const ackMs = performance.now() - sentAt;
  while (!started && performance.now() - sentAt < 10_000) await new Promise((r) => setTimeout(r, 10));
  const refused = answers.filter((a) => a.error?.code === "UNAVAILABLE").length;
  rows.push([
    "one socket sends 2,000 `agent` runs to a slow model; another client's chat.send",
    "past 64 waiting: UNAVAILABLE; the other is acked at once and starts at the next free slot",
    `${refused} refused; ack ${acked ? `${ackMs.toFixed(0)} ms` : "none in 10 s"}; ` +
    `started ${started ? `after ${(started - sentAt).toFixed(0)} ms` : "not within 10 s"}`,
  ]);
  flooder.ws.terminate();
  victim.ws.terminate();
  await gateway.stop();
}

{
  const { gateway, port } = await listening({ modules: [metricsModule()] });
  for (let i = 0; i < 2200; i++) {
    await (await fetch(`http://127.0.0.1:${port}/probe-${i}`, { method: `M${i}` })).body?.cancel();
  }
  await (await fetch(`http://127.0.0.1:${port}/health`)).body?.cancel();
  const scraped = await fetch(`http://127.0.0.1:${port}${PROMETHEUS_PATH}`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  const samples = parseExposition(await scraped.text());
  const dropped = samples.find((s) => s.name === "openclaw_prometheus_series_dropped_total")?.value ?? 0;
  const health = samples.some((s) =>
    s.name === "openclaw_gateway_http_requests_total" && s.labels.route === "/health"
  );
  rows.push([
    "2,200 unauthenticated requests with invented methods and paths, then GET /health",
    "no series dropped; /health counted",
    `${dropped} series dropped; /health ${health ? "counted" : "missing"}`,
  ]);

  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode("TRACE /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
  );
  const buffer = new Uint8Array(1024);
  const head = new TextDecoder().decode(buffer.subarray(0, (await conn.read(buffer)) ?? 0));
  conn.close();
  rows.push([
    "TRACE /health",
    "405 with Allow: GET, HEAD",
    `${head.split("\r\n")[0]}; ${head.match(/^allow: .*$/im)?.[0] ?? "no Allow"}`,
  ]);
  await gateway.stop();
}

printTable(["attack", "expected", "observed"], rows);
