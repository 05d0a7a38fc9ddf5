// Transport hardening (issue 12, items 1, 2, 3, 5 and 13): half-sent bodies, descriptor exhaustion,
// slow headers and idle connections, oversized frames before `connect`, and invalid UTF-8. Each attack
// runs over real loopback sockets, and a well-behaved client is served afterwards.
import assert from "node:assert/strict";
import { createGateway, type Transport } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { nodeTransport } from "../node.ts";
import WebSocket from "ws";
import {
  assertServes,
  handshake,
  loopbackGateway,
  selfSignedCert,
  TOKEN,
  until,
  wsSession,
} from "./_evidence_clients.ts";
import { freePort, runnerEnv, runRunner, spawnGatewayChild } from "./_runner_process.ts";
import { connectParams } from "./_helpers.ts";

const encoder = new TextEncoder();

function openDescriptors(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

/** POSTs a body that promises 1,000 bytes, sends 10, waits `holdMs` and hangs up. */
async function halfSentPost(port: number, path: string, holdMs = 20): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Content-Length: 1000\r\n\r\n`;
  await conn.write(encoder.encode(head + "0123456789")).catch(() => {});
  await new Promise((r) => setTimeout(r, holdMs));
  conn.close();
}

const transports: (() => Transport)[] = [denoTransport, nodeTransport];

for (const make of transports) {
  const name = make().name;
  Deno.test(`${name} transport: half-sent request bodies release their descriptors on every path`, async () => {
    await using gw = await loopbackGateway({ transport: make() });
    const { gateway, port } = gw;
    gateway.registerRoute({
      path: "/t/read",
      handler: async (request) => new Response(await request.text()),
    });
    gateway.registerRoute({ path: "/t/ignore", handler: () => new Response("no thanks", { status: 401 }) });
    gateway.registerRoute({
      path: "/t/fail",
      handler: () => {
        throw new Error("route failed");
      },
    });
    // Reads a little, then gives up without cancelling (as a size check that stops early would).
    gateway.registerRoute({
      path: "/t/partial",
      handler: async (request) => {
        await request.body?.getReader().read();
        return new Response("too large", { status: 413 });
      },
    });
    // Warm up (lazy modules, the first socket), then take the baseline.
    await assertServes(gw.url);
    const start = openDescriptors();
    const paths = ["/t/read", "/t/ignore", "/t/fail", "/t/partial", "/missing", "/v1/models"];
    for (let i = 0; i < 300; i += 30) {
      await Promise.all(
        Array.from({ length: 30 }, (_, j) => halfSentPost(port, paths[(i + j) % paths.length])),
      );
    }
    await until(
      () => openDescriptors() <= start + 20,
      `descriptors back near ${start} (now ${openDescriptors()})`,
    );
    await assertServes(gw.url);
  });

  Deno.test(`${name} transport: stopping with half-sent bodies in flight releases their descriptors`, async () => {
    const gw = await loopbackGateway({ transport: make() });
    gw.gateway.registerRoute({
      path: "/t/read",
      handler: async (request) => new Response(await request.text()),
    });
    await assertServes(gw.url);
    const start = openDescriptors();
    const conns = await Promise.all(Array.from({ length: 50 }, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: gw.port });
      await conn.write(encoder.encode(
        "POST /t/read HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n0123456789",
      ));
      return conn;
    }));
    await new Promise((r) => setTimeout(r, 100));
    const stopped = gw.gateway.stop();
    await new Promise((r) => setTimeout(r, 50));
    conns.forEach((c) => c.close());
    await stopped;
    await until(
      () => openDescriptors() <= start + 20,
      `descriptors back near ${start} (now ${openDescriptors()})`,
    );
  });
}

/** Resolves true when the server closes `conn` (EOF or reset) within `ms`, false if it stays open. */
async function closedByServer(conn: Deno.Conn, ms: number): Promise<boolean> {
  const buffer = new Uint8Array(1024);
  const deadline = Date.now() + ms;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    while (Date.now() < deadline) {
      const read = conn.read(buffer).catch(() => null);
      const timeout = new Promise<"open">((
        r,
      ) => (timer = setTimeout(() => r("open"), deadline - Date.now())));
      const n = await Promise.race([read, timeout]);
      clearTimeout(timer);
      if (n === "open") return false;
      if (n === null) return true;
    }
    return false;
  } finally {
    clearTimeout(timer);
  }
}

for (const make of transports) {
  Deno.test(`${make().name} transport: slow-header and idle keep-alive connections are closed at headerTimeoutMs; a slow answer is not cut`, async () => {
    await using gw = await loopbackGateway({
      transport: make(),
      limits: { headerTimeoutMs: 300 },
      timing: { handshakeTimeoutMs: 300 },
    });
    gw.gateway.registerRoute({
      path: "/t/slow",
      handler: () => new Promise((r) => setTimeout(() => r(new Response("late but whole")), 700)),
    });
    const slow = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: gw.port });
      // Half dribble a header, half never send a byte.
      if (i % 2) await conn.write(encoder.encode("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a"));
      return conn;
    }));
    const closed = await Promise.all(slow.map((conn) => closedByServer(conn, 5_000)));
    slow.forEach((c) => c.close());
    assert.equal(closed.filter(Boolean).length, 50, "every slow-header connection is closed by the server");

    // Keep-alive: one request answered (slower than the header timeout), then idle until closed.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: gw.port });
    await conn.write(encoder.encode("GET /t/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    const buffer = new Uint8Array(4096);
    let text = "";
    while (!text.includes("late but whole")) {
      const n = await conn.read(buffer);
      assert.ok(n !== null, `connection closed before the answer: ${text}`);
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    assert.ok(await closedByServer(conn, 5_000), "an idle keep-alive connection is closed");
    conn.close();

    // A WebSocket that never sends `connect` is closed by the handshake timeout.
    const idle = wsSession(gw.url);
    assert.deepEqual(await idle.ended, { code: 1008, reason: "handshake timeout" });
    await assertServes(gw.url);
  });
}

Deno.test("a gateway process under ulimit -n 256 survives a flood of 400 idle sockets and serves again", async () => {
  const gw = await spawnGatewayChild("deno", "ulimit -n 256");
  try {
    const flood: Deno.Conn[] = [];
    for (let i = 0; i < 400; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: gw.port }).catch(() => null);
      if (conn) flood.push(conn);
    }
    await new Promise((r) => setTimeout(r, 1_500));
    flood.forEach((c) => c.close());
    // The listener comes back within its backoff (at most a second) once descriptors are free.
    let served = false;
    for (let attempt = 0; attempt < 20 && !served; attempt++) {
      await new Promise((r) => setTimeout(r, 500));
      served = await assertServes(`ws://127.0.0.1:${gw.port}`).then(() => true, () => false);
    }
    assert.ok(served, `no normal connect + health after the flood:\n${gw.output.join("\n")}`);
    const status = await Promise.race([
      gw.child.status,
      new Promise((r) => setTimeout(() => r("alive"), 100)),
    ]);
    assert.equal(status, "alive", "the gateway process is still running");
    const warnings = gw.output.filter((l) => l.includes("accepting connections failed"));
    assert.ok(
      warnings.length >= 1 && warnings.length <= 10,
      `logged at most once a second: ${warnings.length}`,
    );
  } finally {
    await gw.stop();
  }
});

function peakRssKb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]);
}

for (const runtime of ["deno", "node"] as const) {
  Deno.test(`${runtime} transport: ten 24 MiB frames before connect close 1009 and grow peak RSS by < 64 MB`, async () => {
    const gw = await spawnGatewayChild(runtime);
    try {
      const url = `ws://127.0.0.1:${gw.port}`;
      await assertServes(url);
      const before = peakRssKb(gw.child.pid);
      const frame = "x".repeat(24 * 1024 * 1024);
      const ends = await Promise.all(Array.from({ length: 10 }, async () => {
        const session = wsSession(url);
        await session.waitFor((f) => f.event === "connect.challenge");
        session.ws.send(frame);
        return (await session.ended).code;
      }));
      // The server closes 1009 at the frame header, half-closes, and leaves the client a grace period to
      // read that frame before it drops the connection: a client still pushing its 24 MiB sees 1009, not
      // a reset (1006) racing the close frame.
      assert.deepEqual(ends, ends.map(() => 1009), `close codes: ${ends}`);
      const growthMb = (peakRssKb(gw.child.pid) - before) / 1024;
      assert.ok(growthMb < 64, `peak RSS grew by ${growthMb.toFixed(1)} MB`);
      await assertServes(url);
    } finally {
      await gw.stop();
    }
  });
}

for (const make of transports) {
  const name = make().name;
  Deno.test({
    name: `${name} transport: invalid UTF-8 in a text frame closes 1007, before and after connect`,
    fn: async () => {
      await using gw = await loopbackGateway({ transport: make() });
      // A text frame (opcode 1, masked) whose payload is not UTF-8; `ws` the client would refuse to send it.
      const badText = (session: ReturnType<typeof wsSession>) => {
        const socket = (session.ws as unknown as { _socket: { write(b: Uint8Array): void } })._socket;
        const payload = Uint8Array.of(0xff, 0xfe, 0x7b);
        const mask = Uint8Array.of(1, 2, 3, 4);
        socket.write(
          Uint8Array.of(0x81, 0x80 | payload.length, ...mask, ...payload.map((b, i) => b ^ mask[i % 4])),
        );
      };
      const early = wsSession(gw.url);
      await early.waitFor((f) => f.event === "connect.challenge");
      badText(early);
      assert.equal((await early.ended).code, 1007);
      const { session, response } = await handshake(gw.url);
      assert.equal(response.ok, true);
      badText(session);
      assert.equal((await session.ended).code, 1007);
      await assertServes(gw.url);
    },
  });
}

for (const make of transports) {
  const name = make().name;
  // The reference gateway (2026.9.6, run for this) decodes a binary frame as UTF-8 text and handles it
  // like a text frame: a binary `connect` gets hello-ok and a binary request gets its response.
  Deno.test(`${name} transport: binary frames are read as JSON text, as the reference gateway does`, async () => {
    await using gw = await loopbackGateway({ transport: make() });
    const session = wsSession(gw.url);
    await session.waitFor((f) => f.event === "connect.challenge");
    session.ws.send(
      encoder.encode(JSON.stringify({ type: "req", id: "c", method: "connect", params: connectParams() })),
    );
    const hello = await session.waitFor((f) => f.id === "c");
    assert.equal(hello.ok, true);
    session.ws.send(encoder.encode(JSON.stringify({ type: "req", id: "h", method: "health", params: {} })));
    const health = await session.waitFor((f) => f.id === "h");
    assert.equal(health.ok, true);
    session.ws.close();
    await session.ended;
  });
}

for (const make of transports) {
  const name = make().name;
  Deno.test(`${name} transport: gateway.tls serves HTTPS (with the configured HSTS) and WSS on the same port`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const { certPath, keyPath, cert } = await selfSignedCert(dir);
      await using gw = await loopbackGateway({
        transport: make(),
        config: {
          gateway: { auth: { mode: "token", token: TOKEN }, tls: { enabled: true, certPath, keyPath } },
        },
      });
      const client = Deno.createHttpClient({ caCerts: [cert] });
      const health = await fetch(`https://127.0.0.1:${gw.port}/health`, { client });
      assert.equal(health.status, 200);
      await health.body?.cancel();
      client.close();
      const ws = new WebSocket(`wss://127.0.0.1:${gw.port}`, { ca: cert });
      const challenge = await new Promise<string>((resolve, reject) => {
        ws.once("message", (data) => resolve(String(data)));
        ws.once("error", reject);
      });
      assert.equal(JSON.parse(challenge).event, "connect.challenge");
      ws.close();
      await new Promise((r) => ws.once("close", r));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  Deno.test(`${name} transport: gateway.tls with a missing key file refuses to start with a config error`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const { certPath } = await selfSignedCert(dir);
      const keyPath = `${dir}/missing-key.pem`;
      await assert.rejects(
        loopbackGateway({
          transport: make(),
          config: {
            gateway: { auth: { mode: "token", token: TOKEN }, tls: { enabled: true, certPath, keyPath } },
          },
        }),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, "CONFIG_INVALID");
          assert.match(error.message, /gateway\.tls\.keyPath \(.*missing-key\.pem\) cannot be read/);
          return true;
        },
      );
      await assert.rejects(
        loopbackGateway({
          transport: make(),
          config: { gateway: { auth: { mode: "token", token: TOKEN }, tls: { enabled: true } } },
        }),
        /gateway\.tls\.certPath and gateway\.tls\.keyPath are not both set/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("runner: gateway.tls on with an unreadable certificate exits 78 with the path in the message", async () => {
  const home = await Deno.makeTempDir();
  try {
    const configPath = `${home}/openclaw.json`;
    const certPath = `${home}/nowhere/cert.pem`;
    Deno.writeTextFileSync(
      configPath,
      JSON.stringify({
        gateway: {
          mode: "local",
          auth: { mode: "token", token: TOKEN },
          tls: { enabled: true, certPath, keyPath: `${home}/nowhere/key.pem` },
        },
      }),
    );
    const result = await runRunner(
      ["gateway", "--port", String(freePort())],
      runnerEnv(home, { OPENCLAW_CONFIG_PATH: configPath }),
    );
    assert.equal(result.code, 78, result.stderr);
    assert.ok(result.stderr.includes(`gateway.tls.certPath (${certPath}) cannot be read`), result.stderr);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("HSTS reaches a passed-through upstream answer (immutable headers, its own nosniff) without failing it", async () => {
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response("upstream", {
        headers: { "content-type": "application/octet-stream", "x-content-type-options": "nosniff" },
      }),
  );
  const gateway = createGateway({
    config: {
      gateway: {
        auth: { mode: "token", token: TOKEN },
        http: { securityHeaders: { strictTransportSecurity: "max-age=31536000" } },
      },
    },
  });
  // A fetched response's headers cannot be changed, and this one already says nosniff.
  gateway.registerRoute({
    path: "/passthrough",
    methods: ["GET"],
    handler: () => fetch(`http://127.0.0.1:${upstream.addr.port}/`),
  });
  await gateway.start();
  try {
    for (const path of ["/passthrough", "/health"]) {
      const response = await gateway.fetch(new Request(`http://127.0.0.1${path}`));
      await response.body?.cancel();
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get("strict-transport-security"), "max-age=31536000", path);
    }
  } finally {
    await gateway.stop();
    await upstream.shutdown();
  }
});
