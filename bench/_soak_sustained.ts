// bench/soak.ts `--phase sustained`: one path at a time under steady load for a long time, sampling after
// every interval the heap that survives a forced full GC (through the inspector) and the resident memory
// of the gateway process. A leak shows as a retained heap that keeps climbing; garbage does not.
import { connectHeapProbe } from "./_heap.ts";
import { startLoadUpstream } from "./_load_upstream.ts";
import { freePort, sharedConfig, startTarget, type Target } from "./_targets.ts";
import { closeAll, handshake, openFds, percentile, printTable, treeRssMiB } from "./_workload.ts";

export type SoakPath = "http" | "stream" | "ws";
const TOKEN = "soak-token-0123456789abcdef";
/** WS clients start a fresh transcript this often, so a turn's context stays the same size. */
const TURNS_PER_SESSION = 50;

/** What one interval of load did. */
interface Interval {
  ok: number;
  errors: number;
  p99Ms: number;
}

/** Load for `seconds` through `wrk` on `path` with `clients` connections. */
async function wrkInterval(
  target: Target,
  stream: boolean,
  clients: number,
  seconds: number,
): Promise<Interval> {
  const body = JSON.stringify({ model: "openclaw", stream, messages: [{ role: "user", content: "soak" }] });
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(
    script,
    [
      `wrk.method = "POST"`,
      `wrk.headers["content-type"] = "application/json"`,
      `wrk.headers["authorization"] = "Bearer ${TOKEN}"`,
      `wrk.body = ${JSON.stringify(body)}`,
    ].join("\n"),
  );
  try {
    const out = await new Deno.Command("wrk", {
      args: [
        "-t2",
        `-c${clients}`,
        `-d${seconds}s`,
        "--latency",
        "-s",
        script,
        `${target.httpBase}/v1/chat/completions`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const total = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
    const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0) +
      [...text.matchAll(/(?:connect|read|write|timeout) (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(text);
    const scale = { us: 0.001, ms: 1, s: 1000 } as Record<string, number>;
    return { ok: total - errors, errors, p99Ms: p99 ? Number(p99[1]) * scale[p99[2]] : NaN };
  } finally {
    await Deno.remove(script);
  }
}

/** `clients` sockets, each sending `chat.send` and waiting for the run's final event, for `seconds`. */
function wsLoad(target: Target, clients: number) {
  const sockets: WebSocket[] = [];
  let turn = 0;
  return {
    async open() {
      for (let i = 0; i < clients; i++) {
        sockets.push(
          await handshake(target.wsUrl, TOKEN, 10_000, "backend", [
            "operator.read",
            "operator.write",
            "operator.admin",
          ]),
        );
      }
    },
    async interval(seconds: number): Promise<Interval> {
      const deadline = performance.now() + seconds * 1000;
      const times: number[] = [];
      let errors = 0;
      await Promise.all(sockets.map((ws, c) =>
        new Promise<void>((resolve) => {
          const key = `soak-${c}`;
          let pending: { id: string; runId?: string; final?: Set<string>; t0: number } | undefined;
          let turns = 0;
          const next = () => {
            if (performance.now() >= deadline) return resolve();
            const id = `${c}-${++turn}`;
            if (++turns % TURNS_PER_SESSION === 0) {
              pending = { id, t0: performance.now() };
              ws.send(JSON.stringify({ type: "req", id, method: "sessions.reset", params: { key } }));
              return;
            }
            pending = { id, final: new Set(), t0: performance.now() };
            ws.send(JSON.stringify({
              type: "req",
              id,
              method: "chat.send",
              params: { sessionKey: key, message: "soak", idempotencyKey: id },
            }));
          };
          const done = (ok: boolean) => {
            if (ok) times.push(performance.now() - pending!.t0);
            else errors++;
            pending = undefined;
            next();
          };
          ws.onmessage = (e) => {
            const frame = JSON.parse(e.data);
            if (!pending) return;
            if (frame.type === "res" && frame.id === pending.id) {
              if (!frame.ok) return done(false);
              if (!pending.final) return done(true);
              pending.runId = frame.payload.runId;
              if (pending.final.has(pending.runId!)) done(true);
            } else if (frame.event === "chat" && pending.final && frame.payload.sessionKey.endsWith(key)) {
              if (frame.payload.state === "delta") return;
              if (frame.payload.runId === pending.runId) done(frame.payload.state === "final");
              else pending.final.add(frame.payload.runId);
            }
          };
          next();
        })
      ));
      times.sort((a, b) => a - b);
      return { ok: times.length, errors, p99Ms: times.length ? percentile(times, 0.99) : NaN };
    },
    close: () => closeAll(sockets),
  };
}

/** Runs one path for `minutes`, sampling every `every` seconds; prints its table. */
export async function sustained(
  path: SoakPath,
  minutes: number,
  every: number,
  clients: number,
): Promise<void> {
  const upstream = startLoadUpstream();
  const inspectPort = freePort();
  const target = await startTarget(
    "ours",
    (port) => sharedConfig(port, TOKEN, upstream.url),
    [`--inspect=127.0.0.1:${inspectPort}`],
  );
  const probe = await connectHeapProbe(inspectPort);
  const ws = path === "ws" ? wsLoad(target, clients) : undefined;
  await ws?.open();
  const rows: (string | number)[][] = [];
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const heaps: number[] = [];
  const rsses: number[] = [];
  const sample = async (t: string, load?: Interval) => {
    const memory = await probe.afterGc();
    const rss = treeRssMiB(target.pid);
    heaps.push(memory.heapUsed / 1024 / 1024);
    rsses.push(rss);
    rows.push([
      t,
      load ? load.ok : "",
      load ? Math.round(load.ok / every) : "",
      load ? load.errors : "",
      load ? load.p99Ms.toFixed(1) : "",
      mib(memory.heapUsed),
      mib(memory.external),
      rss.toFixed(1),
      openFds(target.pid),
    ]);
    console.error(`[soak ${path}] ${rows.at(-1)!.join(" | ")}`);
  };
  await sample("0 s (idle)");
  const started = performance.now();
  let total = 0;
  while (performance.now() - started < minutes * 60_000) {
    const load = ws ? await ws.interval(every) : await wrkInterval(target, path === "stream", clients, every);
    total += load.ok;
    await sample(`${Math.round((performance.now() - started) / 1000)} s`, load);
  }
  await ws?.close();
  await new Promise((r) => setTimeout(r, 30_000));
  await sample("30 s idle after load");
  probe.close();
  await target.stop();
  await upstream.close();

  const loaded = heaps.slice(1, -1);
  console.log(
    `\nsustained ${path}: ${clients} clients, ${minutes} min, ${total} requests; sampled every ${every} s\n`,
  );
  printTable(
    ["t", "ok", "req/s", "errors", "p99 ms", "heap after GC (MiB)", "external (MiB)", "RSS (MiB)", "fds"],
    rows,
  );
  if (loaded.length) {
    console.log(
      `\nretained heap under load: ${Math.min(...loaded).toFixed(1)}–${Math.max(...loaded).toFixed(1)} MiB ` +
        `(spread ${(Math.max(...loaded) - Math.min(...loaded)).toFixed(1)} MiB); RSS ${
          Math.min(...rsses.slice(1)).toFixed(0)
        }–${Math.max(...rsses).toFixed(0)} MiB`,
    );
  }
}
