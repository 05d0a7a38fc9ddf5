// Hostile clients over real loopback sockets: slowloris handshakes and HTTP requests, a flood of
// unauthenticated sockets, oversized frames, binary and non-HTTP garbage, a client that never reads,
// token brute force (from an IP and from a browser Origin), reconnect storms, path traversal and header
// injection. In each case the attacker gets nowhere and a well-behaved client is still served.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { denoTransport } from "../deno.ts";
import { nodeTransport } from "../node.ts";
import { connectParams } from "./_helpers.ts";
import {
  assertServes,
  handshake,
  loopbackGateway,
  TOKEN,
  until,
  untilAsync,
  wsSession,
} from "./_evidence_clients.ts";

Deno.test("slowloris handshakes are closed with 1008 at the handshake timeout; others still connect", async () => {
  await using gw = await loopbackGateway({ timing: { handshakeTimeoutMs: 400 } });
  const idle = Array.from({ length: 50 }, () => wsSession(gw.url));
  await Promise.all(idle.map((s) => s.waitFor((f) => f.event === "connect.challenge")));
  await assertServes(gw.url);
  const ends = await Promise.all(idle.map((s) => s.ended));
  for (const end of ends) assert.deepEqual(end, { code: 1008, reason: "handshake timeout" });
  await until(() => gw.gateway.state.connections() === 0, "idle sockets to be released");
});

for (const make of [denoTransport, nodeTransport]) {
  Deno.test(`${make().name} transport: a burst of unauthenticated sockets gets 503 past the cap; slots come back`, async () => {
    await using gw = await loopbackGateway({
      transport: make(),
      limits: { maxUnauthenticatedSockets: 20 },
      timing: { handshakeTimeoutMs: 800 },
    });
    const flood = Array.from({ length: 60 }, () => wsSession(gw.url));
    const outcomes = await Promise.all(
      flood.map((s) =>
        Promise.race([
          s.ended,
          s.waitFor((f) => f.event === "connect.challenge").then(() => ({ open: true })),
        ])
      ),
    );
    const opened = outcomes.filter((o) => "open" in o).length;
    const refused = outcomes.filter((o) => "refused" in o && o.refused === 503).length;
    assert.equal(opened, 20, "exactly the cap may sit unauthenticated");
    assert.equal(refused, 40, "everything past the cap is refused with 503");
    const health = await fetch(`http://127.0.0.1:${gw.port}/health`);
    assert.equal(health.status, 200, "HTTP keeps answering while the socket cap is full");
    await health.body?.cancel();
    // The squatters time out, and the cap frees up for real clients.
    await Promise.all(flood.map((s) => s.ended));
    await assertServes(gw.url);
  });
}

for (const make of [denoTransport, nodeTransport]) {
  const name = make().name;
  Deno.test(`${name} transport: oversized frames close with 1009 before and after hello-ok`, async () => {
    await using gw = await loopbackGateway({ transport: make(), limits: { maxPayload: 256 * 1024 } });
    const early = wsSession(gw.url);
    await early.waitFor((f) => f.event === "connect.challenge");
    early.ws.send("x".repeat(64 * 1024 + 1));
    assert.equal((await early.ended).code, 1009);

    const { session, response } = await handshake(gw.url);
    assert.equal(response.ok, true);
    session.ws.send(
      JSON.stringify({ type: "req", id: "big", method: "health", params: { pad: "x".repeat(300_000) } }),
    );
    assert.equal((await session.ended).code, 1009);

    const huge = wsSession(gw.url);
    await huge.waitFor((f) => f.event === "connect.challenge");
    huge.ws.send(Buffer.alloc(8 * 1024 * 1024, 0x7b));
    assert.ok([1009, 1008].includes((await huge.ended).code!), "an 8 MiB pre-auth frame must be refused");
    await assertServes(gw.url);
  });
}

Deno.test("binary garbage and non-HTTP bytes get a 1008 close or a dropped connection, nothing more", async () => {
  await using gw = await loopbackGateway();
  const binary = wsSession(gw.url);
  await binary.waitFor((f) => f.event === "connect.challenge");
  binary.ws.send(crypto.getRandomValues(new Uint8Array(4096)));
  assert.deepEqual(await binary.ended, { code: 1008, reason: "invalid frame: not JSON" });

  // After hello-ok, a binary frame that is not JSON ends the session the same way.
  const { session } = await handshake(gw.url);
  session.ws.send(Uint8Array.of(0xff, 0xfe, 0x00, 0x01));
  assert.equal((await session.ended).code, 1008);

  for (let i = 0; i < 20; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: gw.port });
    await conn.write(crypto.getRandomValues(new Uint8Array(2048))).catch(() => {});
    const reply = new Uint8Array(512);
    const read = await conn.read(reply).catch(() => null);
    const text = read ? new TextDecoder().decode(reply.subarray(0, read)) : "";
    assert.ok(text === "" || text.startsWith("HTTP/1.1 400"), `garbage got: ${text.slice(0, 60)}`);
    conn.close();
  }
  await assertServes(gw.url);
});

Deno.test("a client that never reads is closed as a slow consumer; gateway memory stays bounded", async () => {
  await using gw = await loopbackGateway({ limits: { maxBufferedBytes: 1024 * 1024 } });
  const { session: stalled, response } = await handshake(gw.url);
  assert.equal(response.ok, true);
  // Stop reading at the TCP level: the kernel buffers fill and the gateway's outbound queue grows.
  (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const { session: watcher } = await handshake(gw.url);
  const before = Deno.memoryUsage().rss;
  const payload = { blob: "y".repeat(256 * 1024) };
  let peak = before;
  for (let i = 0; i < 400 && gw.gateway.state.connections() > 1; i++) {
    gw.gateway.bus.publish({ event: "health", payload });
    await new Promise((r) => setTimeout(r, 2));
    peak = Math.max(peak, Deno.memoryUsage().rss);
    // The watcher reads everything, so it is never the slow one.
  }
  assert.equal(gw.gateway.state.connections(), 1, "the stalled socket must be dropped, the reader kept");
  assert.equal(watcher.ws.readyState, watcher.ws.OPEN);
  const grownMiB = (peak - before) / 1024 / 1024;
  assert.ok(grownMiB < 200, `RSS grew ${grownMiB.toFixed(0)} MiB while one client stalled`);
  watcher.ws.close();
  stalled.ws.terminate();
  await assertServes(gw.url);
});

Deno.test("token brute force from one IP is locked out with retryAfterMs; the right token waits it out too", async () => {
  await using gw = await loopbackGateway({
    config: {
      gateway: {
        auth: {
          mode: "token",
          token: TOKEN,
          rateLimit: { maxAttempts: 5, windowMs: 60_000, lockoutMs: 60_000, exemptLoopback: false },
        },
      },
    },
  });
  const codes: string[] = [];
  for (let i = 0; i < 8; i++) {
    const { session, response } = await handshake(gw.url, connectParams({ auth: { token: `guess-${i}` } }));
    assert.equal(response.ok, false);
    const error = response.error as { details: { code: string }; retryAfterMs?: number };
    codes.push(error.details.code);
    if (error.details.code === "AUTH_RATE_LIMITED") assert.ok((error.retryAfterMs ?? 0) > 50_000);
    assert.equal((await session.ended).code, 1008);
  }
  assert.deepEqual(codes, [
    ...Array(5).fill("AUTH_TOKEN_MISMATCH"),
    ...Array(3).fill("AUTH_RATE_LIMITED"),
  ]);
  // While locked out even the right token is refused, so guessing it later proves nothing.
  const locked = await handshake(gw.url);
  assert.equal((locked.response.error as { details: { code: string } }).details.code, "AUTH_RATE_LIMITED");
  // HTTP shares the lockout.
  const http = await fetch(`http://127.0.0.1:${gw.port}/v1/models`, {
    headers: { authorization: "Bearer nope" },
  });
  await http.body?.cancel();
  assert.notEqual(http.status, 200);
});

Deno.test("brute force from a browser Origin on loopback locks that Origin, not local CLI clients", async () => {
  await using gw = await loopbackGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN, rateLimit: { maxAttempts: 3, lockoutMs: 60_000 } } },
    },
  });
  const evil = { origin: "http://evil.example" };
  const codes: string[] = [];
  for (let i = 0; i < 5; i++) {
    const { response } = await handshake(gw.url, connectParams({ auth: { token: `guess-${i}` } }), evil);
    codes.push((response.error as { details: { code: string } }).details.code);
  }
  assert.deepEqual(codes.slice(3), ["AUTH_RATE_LIMITED", "AUTH_RATE_LIMITED"]);
  const fromEvil = await handshake(gw.url, connectParams(), evil);
  assert.equal(fromEvil.response.ok, false, "a locked-out Origin cannot get in even with the token");
  await assertServes(gw.url);
});

Deno.test("a reconnect storm leaves no sockets or presence rows behind, and a steady client keeps working", async () => {
  await using gw = await loopbackGateway();
  const steady = await handshake(gw.url, connectParams({ client: { id: "steady", mode: "webchat" } }));
  assert.equal(steady.response.ok, true);
  const presenceBefore = (await gw.gateway.state.presence()).length;
  for (let wave = 0; wave < 5; wave++) {
    const storm = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      handshake(
        gw.url,
        connectParams({
          client: { id: `storm-${wave}-${i}`, mode: "webchat", instanceId: `i-${wave}-${i}` },
        }),
      )));
    // Half hang up politely, half vanish.
    storm.forEach(({ session }, i) => i % 2 ? session.ws.close() : session.ws.terminate());
    const health = await steady.session.request("health");
    assert.equal(health.ok, true, `steady client failed during wave ${wave}`);
  }
  await until(() => gw.gateway.state.connections() === 1, "storm sockets to be released");
  await untilAsync(
    async () => (await gw.gateway.state.presence()).length === presenceBefore,
    "storm presence rows to go",
  );
  assert.equal(steady.session.ws.readyState, steady.session.ws.OPEN);
});

Deno.test("slowloris HTTP: connections dribbling headers do not block other requests", async () => {
  await using gw = await loopbackGateway();
  const slow = await Promise.all(Array.from({ length: 100 }, async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: gw.port });
    await conn.write(new TextEncoder().encode("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a"));
    return conn;
  }));
  for (let i = 0; i < 10; i++) {
    const res = await fetch(`http://127.0.0.1:${gw.port}/health`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await Promise.all(slow.map((c) => c.write(Uint8Array.of(0x61)).catch(() => {})));
  }
  await assertServes(gw.url);
  slow.forEach((c) => c.close());
});

async function rawHttp(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(request));
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(16 * 1024);
  for (;;) {
    const n = await conn.read(buffer).catch(() => null);
    if (!n) break;
    chunks.push(buffer.slice(0, n));
    if (new TextDecoder().decode(chunks.at(-1)).includes("\r\n\r\n")) break;
  }
  conn.close();
  return new TextDecoder().decode(Buffer.concat(chunks));
}

Deno.test("path traversal and CRLF header injection get plain 4xx answers with no injected header", async () => {
  await using gw = await loopbackGateway();
  for (
    const path of [
      "/../../etc/passwd",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/..%2f..%2fetc%2fpasswd",
      "//etc/passwd",
    ]
  ) {
    const head = await rawHttp(
      gw.port,
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    assert.match(head, /^HTTP\/1\.1 (400|404)/, `${path}: ${head.slice(0, 40)}`);
    assert.doesNotMatch(head, /root:/);
  }
  const injected = await rawHttp(
    gw.port,
    "GET /health%0d%0aSet-Cookie:%20pwned=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
  );
  assert.match(injected, /^HTTP\/1\.1 404/);
  assert.doesNotMatch(injected.toLowerCase(), /set-cookie/);
  const folded = await rawHttp(
    gw.port,
    "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r\n Set-Cookie: pwned=1\r\nConnection: close\r\n\r\n",
  );
  assert.match(folded, /^HTTP\/1\.1 (200|400)/);
  assert.doesNotMatch(folded.toLowerCase(), /set-cookie/);
  await assertServes(gw.url);
});
