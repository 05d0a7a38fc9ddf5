import "./_record.ts";
/**
 * Side by side, one run, same machine, same config file, same client code: this gateway (CLI runner on
 * Deno), the reference OpenClaw gateway (npm `openclaw` on Node 24), and a bare Deno.serve floor. Targets
 * run one after another so they never share the CPU. Prints a markdown table; never asserts.
 *
 *   deno run -A bench/side_by_side.ts [--sockets 1000] [--handshakes 200] [--seconds 3] [--chats 50]
 *                                     [--only ours,reference,floor]
 *
 * Chat completions go to a loopback OpenAI-compatible upstream (tests/_upstream.ts), so the figure is the
 * gateway's overhead around a near-instant model; the floor column calls that upstream directly.
 */
import { parseArgs } from "node:util";
import { startFakeUpstream } from "../tests/_upstream.ts";
import { referenceBlocked, sharedConfig, startTarget, type Target, type TargetKind } from "./_targets.ts";
import {
  closeAll,
  handshake,
  holdSockets,
  httpOk,
  percentile,
  printTable,
  pumpRpc,
  timeSequential,
  treeRssMiB,
} from "./_workload.ts";

const { values } = parseArgs({
  options: {
    sockets: { type: "string", default: "1000" },
    handshakes: { type: "string", default: "200" },
    seconds: { type: "string", default: "3" },
    chats: { type: "string", default: "50" },
    only: { type: "string", default: "floor,ours,reference" },
  },
});
const SOCKETS = Number(values.sockets);
const HANDSHAKES = Number(values.handshakes);
const SECONDS = Number(values.seconds);
const CHATS = Number(values.chats);
const TOKEN = "bench-token-0123456789abcdef";
const kinds = values.only.split(",") as TargetKind[];

const upstream = startFakeUpstream();
const ms = (n: number) => n.toFixed(1);
const mib = (n: number) => n.toFixed(1);

type Column = Map<string, string>;

async function measure(target: Target): Promise<Column> {
  const column: Column = new Map();
  const cell = async (label: string, run: () => Promise<string>) => {
    try {
      column.set(label, await run());
    } catch (error) {
      column.set(label, `failed: ${(error as Error).message.slice(0, 80).replaceAll("|", "/")}`);
    }
  };
  const auth = { authorization: `Bearer ${TOKEN}` };
  column.set("cold start → /health 200 (ms)", ms(target.healthMs));
  await cell("cold start → first hello-ok (ms)", async () => {
    // The reference answers /health before its WS side is ready ("gateway starting; retry shortly").
    for (;;) {
      try {
        await closeAll([await handshake(target.wsUrl, TOKEN, 60_000)]);
        return ms(performance.now() - target.spawnedAt);
      } catch (error) {
        if (!/retry/.test(String(error)) || performance.now() - target.spawnedAt > 180_000) throw error;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  await new Promise((r) => setTimeout(r, 2000));
  const idle = treeRssMiB(target.pid);
  column.set("idle RSS, process tree (MiB)", mib(idle));
  await cell("handshake p50 / p99 (ms)", async () => {
    const times = await timeSequential(
      HANDSHAKES,
      async () => closeAll([await handshake(target.wsUrl, TOKEN)]),
    );
    return `${ms(percentile(times, 0.5))} / ${ms(percentile(times, 0.99))}`;
  });
  await cell("health RPC/s (8 sockets × 16 in flight)", async () => {
    const sockets = await holdSockets(target.wsUrl, TOKEN, 8);
    const { ok, errors } = await pumpRpc(sockets, "health", 16, SECONDS * 1000);
    await closeAll(sockets);
    return `${Math.round(ok / SECONDS)}${errors ? ` (${errors} errors)` : ""}`;
  });
  const modelsUrl = `${target.httpBase}/v1/models`;
  await cell("GET /v1/models p50 / p99 (ms)", async () => {
    const times = await timeSequential(HANDSHAKES, () => httpOk(modelsUrl, { headers: auth }));
    return `${ms(percentile(times, 0.5))} / ${ms(percentile(times, 0.99))}`;
  });
  const chatUrl = target.kind === "floor"
    ? `${upstream.url}/chat/completions`
    : `${target.httpBase}/v1/chat/completions`;
  await cell("chat completion p50 / p99 (ms)", async () => {
    const body = JSON.stringify({
      model: target.kind === "floor" ? "m1" : "openclaw",
      messages: [{ role: "user", content: "hello" }],
    });
    const init = { method: "POST", headers: { ...auth, "content-type": "application/json" }, body };
    await httpOk(chatUrl, init); // warm-up (first agent run, session files)
    const times = await timeSequential(CHATS, () => httpOk(chatUrl, init));
    return `${ms(percentile(times, 0.5))} / ${ms(percentile(times, 0.99))}`;
  });
  await cell(`RSS with ${SOCKETS} authenticated sockets (MiB)`, async () => {
    const held: WebSocket[] = [];
    try {
      while (held.length < SOCKETS) {
        held.push(...await holdSockets(target.wsUrl, TOKEN, Math.min(50, SOCKETS - held.length)));
      }
    } catch (error) {
      await closeAll(held);
      throw new Error(`refused after ${held.length} open sockets (${(error as Error).message})`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const loaded = treeRssMiB(target.pid);
    await closeAll(held);
    column.set("per-socket cost (KiB)", ((loaded - idle) * 1024 / SOCKETS).toFixed(1));
    return mib(loaded);
  });
  return column;
}

const columns = new Map<TargetKind, Column>();
for (const kind of kinds) {
  const blocked = kind === "reference" ? referenceBlocked() : undefined;
  if (blocked) {
    columns.set(kind, new Map([["blocked", blocked]]));
    continue;
  }
  let target: Target | undefined;
  try {
    target = await startTarget(kind, (port) => sharedConfig(port, TOKEN, upstream.url));
    console.error(`measuring ${kind} (pid ${target.pid}, port ${target.port})`);
    columns.set(kind, await measure(target));
  } catch (error) {
    columns.set(kind, new Map([["blocked", `could not start: ${(error as Error).message}`]]));
  } finally {
    await target?.stop();
  }
}
await upstream.close();

const NAMES: Record<TargetKind, string> = {
  ours: "this gateway (Deno)",
  reference: "reference openclaw (Node 24)",
  floor: "bare Deno.serve floor",
};
const labels = [...new Set([...columns.values()].flatMap((c) => [...c.keys()]))];
printTable(
  ["metric", ...kinds.map((k) => NAMES[k])],
  labels.map((label) => [label, ...kinds.map((k) => columns.get(k)?.get(label) ?? "–")]),
);
console.log(
  `\n${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}; ` +
    `${HANDSHAKES} handshakes, ${SECONDS} s RPC, ${CHATS} chats, ${SOCKETS} sockets. ` +
    "Floor: /v1/models is its plain 200, chat is the upstream called directly.",
);
