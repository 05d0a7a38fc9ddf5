/**
 * The attacks of issue 12 (items 1–8, 11–14) against the CLI runner on loopback, each on a fresh gateway
 * process, measured from outside: descriptors (/proc/<pid>/fd), peak RSS (VmHWM), heap after a forced GC
 * (inspector), status codes, close codes, time to answer. Prints `attack | expected | observed`; the
 * expected column is the issue's target, so a row that does not meet it shows the gap. Never asserts.
 *
 *   deno run -A bench/hostile.ts [--only 1,5,7]
 *
 * Loopback only; every attack is bounded in count and time (the slowest, slow bodies, stops at 70 s).
 */
import "./_record.ts";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  alive,
  procStatusMiB,
  type RawConn,
  rawConnect,
  rawConnectFrame,
  rawWs,
  statusOf,
  waitUntil,
  write,
} from "./_attacks.ts";
import { connectHeapProbe, type HeapProbe } from "./_heap.ts";
import { startLoadUpstream } from "./_load_upstream.ts";
import { freePort } from "./_targets.ts";
import { openFds, printTable, processTree } from "./_workload.ts";

const { values } = parseArgs({ options: { only: { type: "string", default: "" } } });
const only = new Set(values.only.split(",").filter(Boolean));
const TOKEN = "hostile-token-0123456789abcdef";
const HOOK_TOKEN = "hostile-hook-token-0123456789";
const ROOT = new URL("..", import.meta.url).pathname;
const MiB = 1024 * 1024;

/** A gateway process under attack, with its output kept. */
interface Victim {
  pid: number;
  port: number;
  base: string;
  stdout: string[];
  stderr: string[];
  probe?: HeapProbe;
  stop(): Promise<void>;
}

/** The upstream the gateway's `up` provider talks to, with two hostile models besides the plain one. */
function startHostileUpstream() {
  const plain = startLoadUpstream();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const body = await request.json().catch(() => ({}));
    if (body.model === "huge-error") {
      return new Response(JSON.stringify({ error: { message: "x".repeat(5 * MiB) } }), { status: 500 });
    }
    if (body.model === "endless") {
      // One SSE line that never ends: 64 KiB at a time until the gateway hangs up.
      const piece = new TextEncoder().encode("x".repeat(64 * 1024));
      let sent = false;
      return new Response(
        new ReadableStream({
          pull(controller) {
            if (!sent) controller.enqueue(new TextEncoder().encode("data: "));
            sent = true;
            controller.enqueue(piece);
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    }
    return fetch(`${plain.url}/chat/completions`, { method: "POST", body: JSON.stringify(body) });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/v1`,
    async close() {
      await server.shutdown();
      await plain.close();
    },
  };
}

function config(port: number, upstreamUrl: string): Record<string, unknown> {
  return {
    gateway: {
      mode: "local",
      port,
      bind: "loopback",
      auth: { mode: "token", token: TOKEN },
      http: { endpoints: { chatCompletions: { enabled: true } } },
    },
    models: {
      providers: {
        up: {
          baseUrl: upstreamUrl,
          apiKey: "k",
          api: "openai-completions",
          models: [{ id: "m1" }, { id: "endless" }, { id: "huge-error" }],
        },
      },
    },
    agents: { defaults: { model: { primary: "up/m1" } } },
    channels: { webhook: { secret: "webhook-secret", outboundUrl: "http://127.0.0.1:9/" } },
    hooks: {
      enabled: true,
      token: HOOK_TOKEN,
      mappings: [{ match: { path: "gh" }, action: "agent", messageTemplate: "{{text}}" }],
    },
  };
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    into.push(...lines);
  }
  if (buffer) into.push(buffer);
}

/** Starts `runner/main.ts gateway run` in a fresh state dir; `inspect` opens the inspector for heap readings. */
async function launch(
  upstreamUrl: string,
  options: { inspect?: boolean; nofile?: number } = {},
): Promise<Victim> {
  const home = await Deno.makeTempDir({ prefix: "hostile-" });
  const state = join(home, "state");
  await Deno.mkdir(state, { recursive: true });
  const port = freePort();
  await Deno.writeTextFile(join(state, "openclaw.json"), JSON.stringify(config(port, upstreamUrl)));
  const inspectPort = freePort();
  const args = ["run", ...(options.inspect ? [`--inspect=127.0.0.1:${inspectPort}`] : []), "-A"];
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args, join(ROOT, "runner/main.ts"), "gateway", "run", "--port", String(port)],
    env: {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache", "deno"),
      OPENCLAW_STATE_DIR: state,
      OPENCLAW_CONFIG_PATH: join(state, "openclaw.json"),
      NO_COLOR: "1",
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const output = Promise.all([collect(child.stdout, stdout), collect(child.stderr, stderr)]);
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  for (;;) {
    const up = await fetch(`${base}/health`).then((r) => r.body?.cancel().then(() => r.ok), () => false);
    if (up) break;
    if (performance.now() - t0 > 60_000) throw new Error(`gateway did not start:\n${stderr.join("\n")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (options.nofile) {
    await new Deno.Command("prlimit", {
      args: ["--pid", String(child.pid), `--nofile=${options.nofile}:${options.nofile}`],
    }).output();
  }
  const probe = options.inspect ? await connectHeapProbe(inspectPort) : undefined;
  return {
    pid: child.pid,
    port,
    base,
    stdout,
    stderr,
    probe,
    async stop() {
      probe?.close();
      for (const pid of processTree(child.pid)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
      await child.status;
      await output;
      await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  };
}

const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const hookAuth = { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" };
const tally = (items: (string | number | undefined)[]) => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(String(item), (counts.get(String(item)) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}×${n}`).join(", ");
};
const closeAllRaw = (conns: RawConn[]) => conns.forEach((c) => c.socket.destroy());
/** Lines the gateway printed at error level, or anything on stderr. */
const errorLines = (v: Victim) =>
  v.stdout.filter((l) => /\berror\b|\bfatal\b/i.test(l)).length + v.stderr.length;

/** Runs `n` tasks, `width` at a time. */
async function pool(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await task(next++);
  }));
}

interface Attack {
  item: string;
  name: string;
  expected: string;
  run(upstreamUrl: string): Promise<string>;
}

const attacks: Attack[] = [
  {
    item: "1",
    name:
      "300 half-sent bodies (Content-Length 1000, 10 bytes sent, then hang up) on 401/404/hook/channel routes",
    expected: "descriptors back within 20 of the start",
    async run(up) {
      const v = await launch(up);
      try {
        const before = openFds(v.pid);
        const paths = ["/v1/chat/completions", "/no-such-route", "/hooks/agent", "/channels/webhook/inbound"];
        await pool(300, 20, async (i) => {
          const c = await rawConnect(v.port);
          await write(
            c,
            `POST ${paths[i % 4]} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
              `Content-Length: 1000\r\n\r\n{"a":"1234"`,
          );
          await waitUntil(100);
          c.socket.destroy();
        });
        await waitUntil(3000);
        const after = openFds(v.pid);
        return `fds ${before} → ${after} (${after - before >= 0 ? "+" : ""}${after - before}); alive: ${
          alive(v.pid) ? "yes" : "NO"
        }`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "2",
    name: "400 idle TCP connections at RLIMIT_NOFILE 256 (set with prlimit after start)",
    expected: "process survives; once the flood is gone it serves connect + /health",
    async run(up) {
      const v = await launch(up, { nofile: 256 });
      try {
        const flood: RawConn[] = [];
        let refused = 0;
        await pool(400, 20, async () => {
          const c = await rawConnect(v.port, undefined, 2000).catch(() => undefined);
          if (c) flood.push(c);
          else refused++;
        });
        await waitUntil(3000);
        const survived = alive(v.pid);
        closeAllRaw(flood);
        await waitUntil(2000);
        if (!alive(v.pid)) {
          return `process EXITED (alive during the flood: ${
            survived ? "yes" : "no"
          }; ${refused} connects failed; last stderr: ${v.stderr.slice(-3).join(" / ").slice(0, 300)})`;
        }
        const ws = await rawWs(v.port).catch(() => undefined);
        const hello = ws && await rawConnectFrame(ws, TOKEN);
        ws?.conn.socket.destroy();
        const health = await fetch(`${v.base}/health`).then(
          async (r) => (await r.body?.cancel(), r.status),
          () => 0,
        );
        return `alive: yes; after the flood: connect ${hello?.ok ? "hello-ok" : "FAILED"}, /health ${
          health || "no answer"
        }`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "3",
    name: "100 connections with half the request headers + 100 that send nothing",
    expected: "closed by the server ~10 s after connecting (header timeout)",
    async run(up) {
      const v = await launch(up);
      try {
        const before = openFds(v.pid);
        const conns: RawConn[] = [];
        for (let i = 0; i < 200; i++) {
          const c = await rawConnect(v.port);
          if (i % 2) await write(c, "GET /health HTTP/1.1\r\nHost: x\r\n");
          conns.push(c);
        }
        const t0 = performance.now();
        await waitUntil(20_000, () => conns.every((c) => c.isClosed()));
        const at = (performance.now() - t0) / 1000;
        const open = conns.filter((c) => !c.isClosed()).length;
        const fds = openFds(v.pid);
        closeAllRaw(conns);
        return open
          ? `${open}/200 still open after ${at.toFixed(0)} s (fds ${before} → ${fds})`
          : `all closed after ${at.toFixed(1)} s`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "4",
    name: "1,000 unauthenticated WebSockets from 127.0.0.1, then a client from 127.0.0.2",
    expected: "at most 64 held from one address; the other address connects",
    async run(up) {
      const v = await launch(up);
      try {
        const flood: Awaited<ReturnType<typeof rawWs>>[] = [];
        await pool(1000, 50, async () => {
          const ws = await rawWs(v.port).catch(() => undefined);
          if (ws) flood.push(ws);
        });
        await waitUntil(500);
        const held = flood.filter((w) => w.status === 101 && !w.conn.isClosed()).length;
        const other = await rawWs(v.port, { localAddress: "127.0.0.2" }).catch(() => undefined);
        const hello = other?.status === 101 ? await rawConnectFrame(other, TOKEN) : undefined;
        const statuses = tally(flood.map((w) => w.status));
        other?.conn.socket.destroy();
        closeAllRaw(flood.map((w) => w.conn));
        return `held open from one address: ${held} (upgrade statuses ${statuses}); 127.0.0.2: ${
          hello?.ok ? "hello-ok" : `refused (${other?.status ?? "no answer"})`
        }`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "5",
    name: "ten 24 MiB text frames sent before connect",
    expected: "closed 1009 while reading; VmHWM grows < 64 MiB",
    async run(up) {
      const v = await launch(up);
      try {
        const hwm = procStatusMiB(v.pid, "VmHWM");
        const payload = new Uint8Array(24 * MiB).fill(0x61);
        const sockets = await Promise.all(Array.from({ length: 10 }, () => rawWs(v.port)));
        await Promise.all(
          sockets.map((ws) =>
            Promise.race([ws.frame(0x1, payload), waitUntil(15_000, () => ws.conn.isClosed())])
          ),
        );
        await waitUntil(10_000, () => sockets.every((ws) => ws.conn.isClosed() || ws.closeCode()));
        const codes = tally(sockets.map((ws) => ws.closeCode() ?? (ws.conn.isClosed() ? "dropped" : "open")));
        closeAllRaw(sockets.map((ws) => ws.conn));
        return `close ${codes}; VmHWM +${(procStatusMiB(v.pid, "VmHWM") - hwm).toFixed(0)} MiB`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "6",
    name: "400 MiB chunked body to /channels/webhook/inbound without a signature",
    expected: "refused (401) before the body is read; VmHWM grows < 64 MiB",
    async run(up) {
      const v = await launch(up);
      try {
        const hwm = procStatusMiB(v.pid, "VmHWM");
        const c = await rawConnect(v.port);
        await write(
          c,
          "POST /channels/webhook/inbound HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
            "Transfer-Encoding: chunked\r\n\r\n",
        );
        const chunk = Buffer.concat([
          Buffer.from("100000\r\n"),
          Buffer.alloc(MiB, 0x61),
          Buffer.from("\r\n"),
        ]);
        const t0 = performance.now();
        let sent = 0;
        while (sent < 400 && !c.isClosed() && statusOf(c) === undefined && performance.now() - t0 < 30_000) {
          const flushed = await Promise.race([
            write(c, chunk).then(() => true),
            waitUntil(2000).then(() => false),
          ]);
          if (!flushed) break;
          sent++;
        }
        await write(c, "0\r\n\r\n");
        await waitUntil(5000, () => statusOf(c) !== undefined || c.isClosed());
        const ms = performance.now() - t0;
        c.socket.destroy();
        return `status ${statusOf(c) ?? "none"} after ${
          (ms / 1000).toFixed(1)
        } s, ${sent} MiB accepted; VmHWM +${(procStatusMiB(v.pid, "VmHWM") - hwm).toFixed(0)} MiB`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "7a",
    name: "upstream SSE line that never ends (streamed chat completion, read for 10 s)",
    expected: "stream ends with an error once the line passes 1 MiB; VmHWM grows < 64 MiB",
    async run(up) {
      const v = await launch(up);
      try {
        const hwm = procStatusMiB(v.pid, "VmHWM");
        const t0 = performance.now();
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(), 10_000);
        let status = 0;
        let bytes = 0;
        let ended = "cut by the bench at 10 s";
        try {
          const res = await fetch(`${v.base}/v1/chat/completions`, {
            method: "POST",
            headers: { ...auth, "x-openclaw-model": "up/endless" },
            body: JSON.stringify({
              model: "openclaw",
              stream: true,
              messages: [{ role: "user", content: "x" }],
            }),
            signal: abort.signal,
          });
          status = res.status;
          for await (const chunk of res.body!) bytes += chunk.length;
          ended = `ended by the gateway after ${((performance.now() - t0) / 1000).toFixed(1)} s`;
        } catch { /* cut */ }
        clearTimeout(timer);
        return `status ${status}, ${bytes} bytes, ${ended}; VmHWM +${
          (procStatusMiB(v.pid, "VmHWM") - hwm).toFixed(0)
        } MiB`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "7b",
    name: "upstream answers 500 with a 5 MB error body",
    expected: "≤ 4 KiB of upstream error text to the client and in the log",
    async run(up) {
      const v = await launch(up);
      try {
        const res = await fetch(`${v.base}/v1/chat/completions`, {
          method: "POST",
          headers: { ...auth, "x-openclaw-model": "up/huge-error" },
          body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "x" }] }),
        });
        const body = await res.text();
        await waitUntil(500);
        const longest = Math.max(0, ...[...v.stdout, ...v.stderr].map((l) => l.length));
        return `status ${res.status}, client body ${body.length} bytes, longest log line ${longest} chars`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "8",
    name: "2,000 mapped-hook requests with 200 KiB idempotency keys",
    expected: "keys over 256 chars refused; retained heap grows < 10 MiB",
    async run(up) {
      const v = await launch(up, { inspect: true });
      try {
        const heap = (await v.probe!.afterGc()).heapUsed;
        const statuses: number[] = [];
        const key = "k".repeat(200 * 1024);
        await pool(2000, 16, async (i) => {
          const res = await fetch(`${v.base}/hooks/gh`, {
            method: "POST",
            headers: hookAuth,
            body: JSON.stringify({ text: "hello", idempotencyKey: `${key}${i}` }),
          });
          await res.body?.cancel();
          statuses.push(res.status);
        });
        await waitUntil(2000);
        const grown = ((await v.probe!.afterGc()).heapUsed - heap) / MiB;
        return `statuses ${tally(statuses)}; retained heap +${grown.toFixed(1)} MiB`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "11",
    name: "2,200 unauthenticated requests with made-up HTTP methods",
    expected: "no metrics series created (unknown methods and routes count as `other`)",
    async run(up) {
      const v = await launch(up);
      try {
        const series = async () =>
          (await (await fetch(`${v.base}/api/diagnostics/prometheus`, { headers: auth })).text())
            .split("\n").filter((l) => l && !l.startsWith("#")).length;
        const before = await series();
        const statuses: number[] = [];
        await pool(2200, 16, async (i) => {
          const res = await fetch(`${v.base}/v1/models`, { method: `M${i}` }).catch(() => undefined);
          await res?.body?.cancel();
          statuses.push(res?.status ?? 0);
        });
        return `series ${before} → ${await series()}; statuses ${tally(statuses)}`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "12",
    name: "TRACE /",
    expected: "405 with Allow; nothing at error level",
    async run(up) {
      const v = await launch(up);
      try {
        const errorsBefore = errorLines(v);
        const c = await rawConnect(v.port);
        await write(c, "TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await waitUntil(3000, () => c.isClosed());
        const head = c.received().toString("latin1").split("\r\n\r\n")[0];
        const allow = /^allow: (.*)$/im.exec(head)?.[1];
        c.socket.destroy();
        await waitUntil(300);
        return `status ${statusOf(c) ?? "none"}, Allow ${allow ?? "missing"}, ${
          errorLines(v) - errorsBefore
        } new error/stderr lines`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "13",
    name: "text frame with invalid UTF-8 (before connect)",
    expected: "close 1007",
    async run(up) {
      const v = await launch(up);
      try {
        const ws = await rawWs(v.port);
        await waitUntil(3000, () => ws.messages().length > 0);
        await ws.frame(0x1, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
        await waitUntil(3000, () => ws.conn.isClosed());
        const code = ws.closeCode();
        ws.conn.socket.destroy();
        return code ? `close ${code}` : `no close frame (socket ${ws.conn.isClosed() ? "dropped" : "open"})`;
      } finally {
        await v.stop();
      }
    },
  },
  {
    item: "14",
    name: "slow bodies (1 byte/s of 1,000) on /v1/chat/completions, /hooks/agent, /tools/invoke",
    expected: "one body timeout for every route: 408 at the same time",
    async run(up) {
      const v = await launch(up);
      try {
        const routes: [string, Record<string, string>][] = [
          ["/v1/chat/completions", auth],
          ["/hooks/agent", hookAuth],
          ["/tools/invoke", auth],
        ];
        const results = await Promise.all(routes.map(async ([path, headers]) => {
          const c = await rawConnect(v.port);
          const head = Object.entries(headers).map(([k, h]) => `${k}: ${h}\r\n`).join("");
          await write(c, `POST ${path} HTTP/1.1\r\nHost: x\r\n${head}Content-Length: 1000\r\n\r\n`);
          const t0 = performance.now();
          while (performance.now() - t0 < 70_000 && statusOf(c) === undefined && !c.isClosed()) {
            await write(c, " ");
            await waitUntil(1000, () => statusOf(c) !== undefined || c.isClosed());
          }
          const s = ((performance.now() - t0) / 1000).toFixed(0);
          c.socket.destroy();
          return `${path} ${statusOf(c) ?? (c.isClosed() ? "closed" : "still waiting")} at ${s} s`;
        }));
        return results.join("; ");
      } finally {
        await v.stop();
      }
    },
  },
];

const upstream = startHostileUpstream();
const rows: string[][] = [];
for (const attack of attacks) {
  if (only.size && !only.has(attack.item)) continue;
  console.error(`[hostile] item ${attack.item}: ${attack.name}`);
  let observed: string;
  try {
    observed = await attack.run(upstream.url);
  } catch (error) {
    observed = `bench failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300);
  }
  console.error(`[hostile]   → ${observed}`);
  rows.push([attack.item, attack.name, attack.expected, observed]);
}
await upstream.close();
console.log(`\nhostile clients against the runner on loopback (${new Date().toISOString()})\n`);
printTable(["item", "attack", "expected", "observed"], rows);
