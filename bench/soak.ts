import "./_record.ts";
/**
 * Soak: a gateway process under load for a bounded time. Prints markdown tables; never asserts.
 *
 * `--phase mixed` (default): many sockets held open, presence events fanned out to all of them by a churn
 * of connecting/leaving clients, health RPCs, `/v1/models` and chat completions over HTTP — sampling
 * resident memory and open file descriptors.
 *
 *   deno run -A bench/soak.ts [--seconds 60] [--sockets 1000] [--every 5] [--target ours|reference]
 *
 * `--phase sustained`: one path at a time (`--path http|stream|ws|all`: stateless chat completions,
 * streamed ones, `chat.send` over WS) with `--clients` clients for `--minutes`, printing every `--every`
 * seconds (default 60) the heap used after a forced GC, RSS and descriptors. Needs `wrk` for the HTTP paths.
 *
 *   deno run -A bench/soak.ts --phase sustained --path all --minutes 30 [--every 60] [--clients 32]
 *
 * `--phase hostile`: healthy clients beside attackers (half-sent bodies, idle sockets, oversize pre-auth
 * frames, chunked floods, wrong tokens) for `--seconds`, printing RSS, descriptors and the healthy p99
 * every `--every` seconds, after a quiet stretch of the same length for comparison.
 *
 *   deno run -A bench/soak.ts --phase hostile [--seconds 60] [--every 5]
 */
import { parseArgs } from "node:util";
import { startFakeUpstream } from "../tests/_upstream.ts";
import { hostileMix } from "./_soak_hostile.ts";
import { type SoakPath, sustained } from "./_soak_sustained.ts";
import { referenceBlocked, sharedConfig, startTarget, type TargetKind } from "./_targets.ts";
import { closeAll, handshake, holdSockets, openFds, printTable, pumpRpc, treeRssMiB } from "./_workload.ts";

const { values } = parseArgs({
  options: {
    phase: { type: "string", default: "mixed" },
    seconds: { type: "string", default: "60" },
    sockets: { type: "string", default: "1000" },
    every: { type: "string", default: "" },
    target: { type: "string", default: "ours" },
    path: { type: "string", default: "all" },
    minutes: { type: "string", default: "30" },
    clients: { type: "string", default: "32" },
  },
});
const SECONDS = Number(values.seconds);
if (values.phase === "sustained") {
  const paths: SoakPath[] = values.path === "all" ? ["http", "stream", "ws"] : [values.path as SoakPath];
  for (const path of paths) {
    await sustained(path, Number(values.minutes), Number(values.every || 60), Number(values.clients));
  }
  Deno.exit(0);
}
if (values.phase === "hostile") {
  await hostileMix(SECONDS, Number(values.every || 5));
  Deno.exit(0);
}
const EVERY = Number(values.every || 5);
const TOKEN = "soak-token-0123456789abcdef";
const kind = values.target as TargetKind;
if (kind === "reference" && referenceBlocked()) {
  console.log(`blocked: ${referenceBlocked()}`);
  Deno.exit(0);
}

const upstream = startFakeUpstream();
const target = await startTarget(kind, (port) => sharedConfig(port, TOKEN, upstream.url));
const held = await holdSockets(target.wsUrl, TOKEN, Number(values.sockets));
const counts = { rpcOk: 0, rpcErr: 0, httpOk: 0, httpErr: 0, churn: 0, churnErr: 0, events: 0 };
for (const ws of held) ws.onmessage = () => counts.events++;
const deadline = performance.now() + SECONDS * 1000;
const running = () => performance.now() < deadline;

async function loop(body: () => Promise<void>, onError: () => void): Promise<void> {
  while (running()) {
    try {
      await body();
    } catch {
      onError();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function http(path: string, init: RequestInit = {}): Promise<void> {
  const res = await fetch(`${target.httpBase}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
  });
  await res.text();
  if (!res.ok) throw new Error(String(res.status));
  counts.httpOk++;
}

const chatBody = JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "soak" }] });
const rpcSockets = await holdSockets(target.wsUrl, TOKEN, 4);
const rows: (string | number)[][] = [];
const sample = (label: string) => {
  rows.push([
    label,
    treeRssMiB(target.pid).toFixed(1),
    openFds(target.pid),
    counts.rpcOk,
    counts.rpcErr,
    counts.httpOk,
    counts.httpErr,
    counts.churn,
    counts.churnErr,
    counts.events,
  ]);
};
sample("0 s");
const sampler = setInterval(
  () => sample(`${Math.round(SECONDS - (deadline - performance.now()) / 1000)} s`),
  EVERY * 1000,
);
await Promise.all([
  loop(async () => {
    const r = await pumpRpc(rpcSockets, "health", 4, 1000);
    counts.rpcOk += r.ok;
    counts.rpcErr += r.errors;
  }, () => counts.rpcErr++),
  loop(() => http("/v1/chat/completions", { method: "POST", body: chatBody }), () => counts.httpErr++),
  loop(() => http("/v1/models"), () => counts.httpErr++),
  loop(async () => {
    // A webchat client joining and leaving publishes presence to every held socket.
    const ws = await handshake(target.wsUrl, TOKEN, 10_000, "webchat");
    await closeAll([ws]);
    counts.churn++;
  }, () => counts.churnErr++),
]);
clearInterval(sampler);
sample(`${SECONDS} s (end of load)`);
await closeAll([...held, ...rpcSockets]);
await new Promise((r) => setTimeout(r, 3000));
sample("3 s after all sockets closed");
await target.stop();
await upstream.close();

console.log(`soak of ${kind}: ${values.sockets} held sockets, ${SECONDS} s\n`);
printTable(
  [
    "t",
    "RSS tree (MiB)",
    "open fds",
    "health ok",
    "health err",
    "HTTP ok",
    "HTTP err",
    "webchat joins",
    "join err",
    "events to held sockets",
  ],
  rows,
);
