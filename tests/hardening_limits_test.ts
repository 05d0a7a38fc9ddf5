// Hardening limits (issue 12): per-address pre-auth socket cap, fair run queues with a per-connection
// cap, bounded metrics labels, 405 for methods fetch cannot represent, honest config-write failures,
// and the open-file limit in the service units, the runner log and doctor.
import { agentTurns } from "../lib/channels/turns.ts";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { dirname, join } from "node:path";
import { agentsModule } from "../lib/agents/mod.ts";
import { metricsModule, parseExposition, PROMETHEUS_PATH } from "../lib/metrics/mod.ts";
import { LocalProvider } from "../lib/providers/local.ts";
import { createGateway, type Frame, type LogRecord, openMemorySocket } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { nodeTransport } from "../node.ts";
import { assertServes, loopbackGateway, until } from "./_evidence_clients.ts";
import { renderLaunchdPlist } from "../lib/service/launchd.ts";
import { parsePlist } from "../lib/service/plist.ts";
import { buildGatewayServiceSpec } from "../lib/service/spec.ts";
import { renderSystemdUnit } from "../lib/service/systemd.ts";
import { configMethodsModule } from "../runner/gateway/config-methods.ts";
import { lockPath } from "../runner/gateway/lock.ts";
import { parseOpenFileLimit } from "../runner/gateway/open-files.ts";
import { client, connectParams, TOKEN } from "./_helpers.ts";
import { fakeLinuxHost, recordingRunner, runOps, withTempDir, writeConfig } from "./_ops_fakes.ts";
import { runnerEnv } from "./_runner_process.ts";

Deno.test("metrics: invented methods and unknown paths share the `other` label; real series still appear", async () => {
  const metrics = metricsModule();
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
    modules: [metrics],
  });
  await gateway.start();
  try {
    for (let i = 0; i < 2200; i++) {
      const response = await gateway.fetch(
        new Request(`http://gw.test/probe-${i}`, { method: `M${i}` }),
        { remoteAddress: "192.0.2.7" },
      );
      await response.body?.cancel();
    }
    const late = await gateway.fetch(new Request("http://gw.test/health"));
    await late.body?.cancel();
    const scraped = await gateway.fetch(
      new Request(`http://gw.test${PROMETHEUS_PATH}`, { headers: { Authorization: `Bearer ${TOKEN}` } }),
    );
    const samples = parseExposition(await scraped.text());
    const requests = samples.filter((s) => s.name === "openclaw_gateway_http_requests_total");
    assert.deepEqual(
      requests.filter((s) => s.labels.route === "other").map((s) => s.labels),
      [{ route: "other", method: "other", status: "404" }],
      "2,200 invented methods on invented paths are one series",
    );
    assert.ok(
      requests.some((s) => s.labels.route === "/health" && s.labels.method === "GET"),
      "a real request after the flood still gets its series",
    );
    const dropped = samples.find((s) => s.name === "openclaw_prometheus_series_dropped_total");
    assert.equal(dropped?.value ?? 0, 0, "nothing was dropped");
  } finally {
    await gateway.stop();
  }
});

/** Sends one raw HTTP/1.1 request (fetch cannot send TRACE) and returns the response head. */
async function rawRequest(port: number, method: string, path: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    let text = "";
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
      if (text.includes("\r\n\r\n")) break;
    }
    return text;
  } finally {
    conn.close();
  }
}

for (const make of [denoTransport, nodeTransport]) {
  Deno.test(`${make().name} transport: TRACE gets 405 with Allow, and nothing is logged as an error`, async () => {
    const records: LogRecord[] = [];
    const gateway = createGateway({
      config: { gateway: { auth: { mode: "token", token: TOKEN } } },
      transport: make(),
      hostname: "127.0.0.1",
      port: 0,
      logSinks: [{ write: (record) => records.push(record) }],
    });
    const port = (await gateway.start())!.port;
    const consoleErrors: unknown[][] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => void consoleErrors.push(args);
    try {
      // Node's HTTP parser itself refuses TRACK with 400; Deno passes it on.
      for (const method of make().name === "deno" ? ["TRACE", "TRACK"] : ["TRACE"]) {
        const head = await rawRequest(port, method, "/health");
        assert.match(head, /^HTTP\/1\.1 405 /, `${method}: ${head}`);
        assert.match(head, /\r\nallow: GET, HEAD\r\n/i, `${method}: ${head}`);
      }
      const unknownPath = await rawRequest(port, "TRACE", "/no-such-page");
      assert.match(unknownPath, /^HTTP\/1\.1 404 /);
    } finally {
      console.error = consoleError;
      await gateway.stop();
    }
    assert.deepEqual(consoleErrors, [], "no stack trace on stderr");
    assert.deepEqual(records.filter((r) => r.level === "error"), []);
  });
}

const canMount = Deno.uid?.() === 0 && Deno.build.os === "linux";

/** Runs `body` with a 256 KiB tmpfs (a real full disk on demand); needs root. */
async function withTinyFs(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "openclaw-tinyfs-" });
  const mounted = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir],
    stderr: "piped",
  }).output();
  if (!mounted.success) throw new Error(new TextDecoder().decode(mounted.stderr));
  try {
    await body(dir);
  } finally {
    await new Deno.Command("umount", { args: [dir] }).output();
    await Deno.remove(dir, { recursive: true });
  }
}

async function fillDisk(dir: string): Promise<void> {
  const filler = await Deno.open(join(dir, "filler"), { write: true, create: true });
  for (;;) {
    const n = await filler.write(new Uint8Array(4096)).catch(() => 0);
    if (!n) break;
  }
  filler.close();
}

Deno.test({
  name: "config.set on a full disk: ENOSPC and the path in a retryable error, no temp file, old file kept",
  ignore: !canMount,
  async fn() {
    await withTinyFs(async (dir) => {
      const path = join(dir, "openclaw.json");
      const before = JSON.stringify({ gateway: { mode: "local", auth: { mode: "token", token: TOKEN } } });
      await Deno.writeTextFile(path, before);
      const gateway = createGateway({
        config: JSON.parse(before),
        modules: [configMethodsModule({ configPath: path })],
      });
      await gateway.start();
      try {
        const admin = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
        const { hash } = (await admin.request("config.get")).payload as { hash: string };
        await fillDisk(dir);
        const next = { gateway: { mode: "local", port: 18790, auth: { mode: "token", token: TOKEN } } };
        const refused = await admin.request("config.set", { raw: JSON.stringify(next), baseHash: hash });
        assert.equal(refused.ok, false);
        const error = refused.error as { code: string; message: string; retryable?: boolean };
        assert.equal(error.code, "UNAVAILABLE", error.message);
        assert.equal(error.retryable, true);
        assert.ok(
          error.message.includes(`ENOSPC (no space left on device) writing ${path}`),
          error.message,
        );
        assert.equal(await Deno.readTextFile(path), before, "the old file is kept");
        const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
        assert.deepEqual(names, ["filler", "openclaw.json"], "no temp file is left behind");
        admin.socket.close();
      } finally {
        await gateway.stop();
      }
    });
  },
});

Deno.test("service definitions raise the open-file limit: systemd LimitNOFILE, launchd NumberOfFiles", () => {
  const spec = buildGatewayServiceSpec({
    launcher: ["/usr/local/bin/deno", "run", "-A", "/srv/openclaw/runner/main.ts"],
    profile: "default",
    port: 18789,
    stateDir: "/home/me/.openclaw",
    configPath: "/home/me/.openclaw/openclaw.json",
  });
  const unit = renderSystemdUnit(spec, "/home/me/.openclaw/gateway.env");
  const service = unit.slice(unit.indexOf("[Service]"), unit.indexOf("[Install]"));
  assert.match(service, /^LimitNOFILE=65536$/m);
  const plist = parsePlist(renderLaunchdPlist("ai.openclaw.gateway", spec, "/e", "/l")) as Record<
    string,
    unknown
  >;
  assert.deepEqual(plist.SoftResourceLimits, { NumberOfFiles: 65536 });
  assert.deepEqual(plist.HardResourceLimits, { NumberOfFiles: 65536 });
});

Deno.test("open-file limit: /proc/<pid>/limits rows parse, including unlimited", () => {
  const header = "Limit                     Soft Limit           Hard Limit           Units     \n";
  assert.deepEqual(
    parseOpenFileLimit(
      `${header}Max open files            1024                 524288               files     \n`,
    ),
    { soft: 1024, hard: 524288 },
  );
  assert.deepEqual(
    parseOpenFileLimit(
      `${header}Max open files            unlimited            unlimited            files\n`,
    ),
    { soft: Infinity, hard: Infinity },
  );
  assert.equal(parseOpenFileLimit(header), undefined);
});

Deno.test("doctor warns below 4,096 open files and says how to raise it; ok above", async () => {
  await withTempDir(async (home) => {
    await writeConfig(home, { gateway: { mode: "local", port: 20003, auth: { token: TOKEN } } });
    const doctor = async (soft: number, running = 65536) => {
      const host = { ...fakeLinuxHost(home, recordingRunner().run) };
      host.openFileLimit = (pid) =>
        Promise.resolve(pid === undefined ? { soft, hard: soft } : { soft: running, hard: running });
      return await runOps(host, ["doctor"], { HOME: home });
    };
    const low = await doctor(1024);
    assert.equal(low.code, 0, "a low limit is a warning, not an error");
    assert.match(low.out, /^\[warn\] open-files: this shell's open-file limit is 1024, below 4096: /m);
    assert.match(low.out, /repair: none automatic: .*LimitNOFILE.*ulimit -Hn 65536/);
    const ample = await doctor(65536);
    assert.match(ample.out, /^\[ok\] open-files: this shell's open-file limit is 65536$/m);
    // A running gateway (it holds the lock) is judged by its own limit, not the shell's.
    const lock = lockPath(`${home}/.openclaw`);
    await Deno.mkdir(dirname(lock), { recursive: true });
    await Deno.writeTextFile(lock, JSON.stringify({ pid: Deno.pid }));
    const service = await doctor(65536, 1024);
    assert.match(
      service.out,
      new RegExp(
        `^\\[warn\\] open-files: the running gateway's \\(pid ${Deno.pid}\\) open-file limit is 1024`,
        "m",
      ),
    );
  });
});

Deno.test({
  name: "the runner logs its open-file limit at start, with a warning when it is low",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await withTempDir(async (home) => {
      // The hard limit caps what the runtime can raise its soft limit to.
      const child = new Deno.Command("sh", {
        args: [
          "-c",
          'ulimit -n 2048 && exec "$0" "$@"',
          Deno.execPath(),
          "run",
          "-A",
          new URL("../runner/main.ts", import.meta.url).pathname,
          "--dev",
          "gateway",
          "--port",
          "0",
        ],
        env: runnerEnv(home),
        clearEnv: true,
        stdout: "piped",
        stderr: "null",
        stdin: "null",
      }).spawn();
      let seen = "";
      try {
        for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
          seen += chunk;
          if (/open-file limit.*\n/.test(seen)) break;
        }
      } finally {
        child.kill("SIGTERM");
        await child.status;
      }
      assert.match(seen, /WARN .*open-file limit below 4096; .*LimitNOFILE.* soft=2048 hard=2048/);
    });
  },
});

type PreAuth = { open: true; ws: WebSocket } | { open: false; status: number; body: string };

/** Opens a socket from `localAddress` and waits for the challenge, or for the refused upgrade's status and text. */
function preAuthSocket(url: string, localAddress = "127.0.0.1"): Promise<PreAuth> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress });
    ws.on("message", () => resolve({ open: true, ws }));
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => {
        ws.terminate();
        resolve({ open: false, status: res.statusCode ?? 0, body });
      });
    });
    ws.on("error", (error) => reject(error));
  });
}

for (const make of [denoTransport, nodeTransport]) {
  Deno.test(`${make().name} transport: one address holds at most 64 unauthenticated sockets; another address still gets in`, async () => {
    await using gw = await loopbackGateway({ transport: make() });
    const flood = await Promise.all(Array.from({ length: 200 }, () => preAuthSocket(gw.url)));
    const refused = flood.filter((s) => !s.open);
    assert.equal(flood.length - refused.length, 64, "the default per-address cap is 64");
    for (const r of refused) {
      assert.deepEqual(
        { status: r.status, body: r.body },
        {
          status: 503,
          body: "Too many unauthenticated sockets from your address (limit 64); " +
            "complete the connect handshake on the open ones or retry later",
        },
      );
    }
    // All of 127/8 is loopback on Linux: 127.0.0.2 is a second client address.
    const other = await preAuthSocket(gw.url, "127.0.0.2");
    assert.equal(other.open, true, "a second address is not locked out by the first");
    if (other.open) other.ws.close();
    for (const s of flood) if (s.open) s.ws.close();
    // The first address gets its slots back once its sockets are gone.
    await until(() => gw.gateway.state.connections() === 0, "the flood to close");
    await assertServes(gw.url);
  });
}

Deno.test("per-address cap: configurable, IPv6 counted per /64, a slot frees when a socket authenticates", async () => {
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN }, limits: { maxUnauthenticatedPerAddress: 3 } },
    },
  });
  await gateway.start();
  try {
    const open = (remoteAddress: string) => openMemorySocket(gateway, { remoteAddress });
    const first = open("2001:db8::a");
    open("2001:db8::b");
    open("[2001:db8:0:0:1::c]");
    assert.throws(() => open("2001:db8::d"), /HTTP 503/, "the same /64 is one address");
    open("2001:db8:0:1::1");
    open("::ffff:192.0.2.1");
    open("192.0.2.1");
    open("192.0.2.1");
    assert.throws(() => open("192.0.2.1"), /HTTP 503/, "IPv4-mapped and plain IPv4 are one address");
    await first.next();
    first.send({ type: "req", id: "c", method: "connect", params: connectParams() });
    assert.equal((await first.waitFor((f) => f.id === "c")).ok, true);
    open("2001:db8::d");
  } finally {
    await gateway.stop();
  }
});

/**
 * A gateway whose local model holds every reply until `release()`: runs pile up without any timing.
 * Records which connection each run started for, in start order.
 */
async function heldModelGateway(limits: Record<string, number> = {}) {
  const gate = Promise.withResolvers<void>();
  const sleep = (_ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      gate.promise.then(done);
      signal.addEventListener("abort", done, { once: true });
    });
  const agents = agentsModule({ providers: { local: new LocalProvider({ delayMs: 1, sleep }) } });
  const gateway = createGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN }, limits } },
    modules: [agents],
    timing: { drainTimeoutMs: 50 },
  });
  await gateway.start();
  const starts: string[] = [];
  agents.runtime().onRunEvent((run, event) => {
    if (event.type === "start") starts.push(run.origin.connId ?? "");
  });
  return { gateway, agents, starts, release: () => gate.resolve() };
}

/** Sends an `agent` request and resolves with its first answer: the `accepted` ack or the error. */
async function queueAgentRun(c: Awaited<ReturnType<typeof client>>, i: number): Promise<Frame> {
  const id = `flood-${i}`;
  c.socket.send({
    type: "req",
    id,
    method: "agent",
    params: { message: `task ${i}`, sessionKey: `flood-${i}`, idempotencyKey: id },
  });
  return await c.socket.waitFor((f) => f.type === "res" && f.id === id);
}

Deno.test("one connection's 500 queued runs do not starve another: its chat.send is acked and starts next", async () => {
  const held = await heldModelGateway({ maxQueuedRunsPerConnection: 1000 });
  const { gateway, starts } = held;
  try {
    const flooder = await client(gateway);
    const flooderId = (flooder.hello.server as { connId: string }).connId;
    for (let i = 0; i < 500; i++) {
      const ack = await queueAgentRun(flooder, i);
      assert.equal((ack.payload as { status?: string })?.status, "accepted", JSON.stringify(ack));
    }
    assert.equal(starts.length, 8, "the agent's 8 slots are busy; 492 runs wait");

    const other = await client(gateway);
    const otherId = (other.hello.server as { connId: string }).connId;
    // Acked while every slot is held and 492 runs wait: the ack does not wait for the queue.
    const sent = await other.request("chat.send", {
      sessionKey: "main",
      message: "hi",
      idempotencyKey: "c-1",
    });
    assert.equal(sent.ok, true, JSON.stringify(sent.error));
    assert.equal((sent.payload as { status: string }).status, "started");

    held.release();
    await until(() => starts.includes(otherId), "the other client's run to start");
    const before = starts.indexOf(otherId);
    assert.ok(
      before <= 9,
      `the other client's run started as run #${before + 1}; the flooder's backlog must not go first`,
    );
    assert.ok(starts.slice(0, before).every((id) => id === flooderId));
    await until(() => starts.length === 501, "the backlog to drain", 30_000);
  } finally {
    await gateway.stop();
  }
});

Deno.test("a connection may have 64 runs waiting; the next gets a retryable UNAVAILABLE that names the limit", async () => {
  const held = await heldModelGateway();
  const { gateway, starts } = held;
  try {
    const flooder = await client(gateway);
    const answers: Frame[] = [];
    for (let i = 0; i < 8 + 64 + 1; i++) answers.push(await queueAgentRun(flooder, i));
    assert.equal(starts.length, 8);
    assert.ok(answers.slice(0, 72).every((a) => a.ok), "8 running and 64 waiting are accepted");
    const refused = answers[72];
    assert.equal(refused.ok, false);
    const error = refused.error as { code: string; message: string; retryable?: boolean };
    assert.deepEqual(
      { code: error.code, retryable: error.retryable },
      { code: "UNAVAILABLE", retryable: true },
    );
    assert.match(error.message, /too many runs waiting to start on this connection \(limit 64\)/);
    // The cap is per connection: another client still queues.
    const other = await client(gateway);
    const sent = await other.request("chat.send", {
      sessionKey: "main",
      message: "hi",
      idempotencyKey: "o-1",
    });
    assert.equal(sent.ok, true, JSON.stringify(sent.error));
    held.release();
    await until(() => starts.length === 73, "the queue to drain", 30_000);
  } finally {
    await gateway.stop();
  }
});

Deno.test("runs from one chat or the hook token share one queue budget: the 65th waiting run is refused", async () => {
  const held = await heldModelGateway();
  const { gateway, agents, starts } = held;
  try {
    const turns = agentTurns(agents);
    const start = (i: number, queueOwner: string) =>
      turns.start({ message: `m${i}`, sessionKey: `chat-${queueOwner}-${i}`, queueOwner });
    for (let i = 0; i < 8 + 64; i++) start(i, "channel:telegram:42");
    await until(() => starts.length === 8, "the first eight to start");
    assert.throws(() => start(72, "channel:telegram:42"), /too many runs waiting to start/);
    // Another chat has its own budget.
    assert.doesNotThrow(() => start(0, "channel:telegram:7"));
    held.release();
    await until(() => starts.length === 73, "the queue to drain", 30_000);
  } finally {
    await gateway.stop();
  }
});
