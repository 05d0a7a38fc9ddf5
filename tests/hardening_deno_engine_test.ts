// The hardened Deno engine (issue 12, items 2, 3, 5 and 13 on Deno): its own HTTP/1.1 parser and
// RFC 6455 framing over raw loopback sockets. Strict request framing (smuggling shapes get 400), a
// bounded header phase, pull-based bodies, prompt streaming, and WebSocket frames refused from their
// header. The ten-24-MiB-frames, 1007 and EMFILE cases run for every transport in
// hardening_transport_test.ts; the reference client and `ws` in transport_sockets_test.ts; the openai
// SDK in openai_sdk_test.ts (all on this engine, the Deno default).
import assert from "node:assert/strict";
import { validateConfig } from "../mod.ts";
import { denoTransport } from "../deno.ts";
import { findUnknownKeys } from "../lib/config/unknown-keys.ts";
import { assertServes, loopbackGateway, selfSignedCert, TOKEN, wsSession } from "./_evidence_clients.ts";
import { EngineWebSocket } from "../lib/transports/deno/websocket-socket.ts";
import { ReadBuffer } from "../lib/transports/deno/read-buffer.ts";
import { listenHardened } from "../lib/transports/deno/engine.ts";
import { parseFrameHeader, unmask } from "../lib/transports/deno/websocket-frames.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sends `request` raw and returns everything the server sends until it closes (or `ms` pass). */
async function exchange(port: number, request: string | Uint8Array, ms = 3_000): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(typeof request === "string" ? encoder.encode(request) : request).catch(() => {});
  let text = "";
  const buffer = new Uint8Array(64 * 1024);
  const timer = setTimeout(() => conn.close(), ms);
  try {
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
  return text;
}

const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

Deno.test("hardened engine: request smuggling shapes and malformed heads get 400 and the connection closes", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport() });
  const shapes: [string, string][] = [
    ["Content-Length with Transfer-Encoding", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"],
    ["conflicting Content-Length", "Content-Length: 5\r\nContent-Length: 6\r\n"],
    ["non-decimal Content-Length", "Content-Length: +5\r\n"],
    ["Content-Length list", "Content-Length: 5, 5\r\n"],
    ["obs-fold", "X-A: a\r\n folded: yes\r\n"],
    ["space before colon", "Transfer-Encoding : chunked\r\n"],
    ["bare LF in a value", "X-A: a\nContent-Length: 5\r\n"],
    ["two Host headers", "Host: other.example\r\n"],
  ];
  for (const [what, fields] of shapes) {
    const answer = await exchange(gw.port, `POST /health HTTP/1.1\r\nHost: 127.0.0.1\r\n${fields}\r\nhello`);
    assert.deepEqual(statuses(answer), [400], `${what}: ${answer.slice(0, 80)}`);
    assert.match(answer, /\r\nconnection: close\r\n/, what);
  }
  for (
    const line of ["GET /health", "GET  /health HTTP/1.1", "GET /health HTTP/2.0", "G@T /health HTTP/1.1"]
  ) {
    const answer = await exchange(gw.port, `${line}\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.ok(/^HTTP\/1\.1 400 /.test(answer), `${line}: ${answer.slice(0, 40)}`);
  }
  // A chunked body that breaks its own framing fails the route's read; the connection is not reused.
  gw.gateway.registerRoute({
    path: "/t/read",
    handler: (request) =>
      request.text().then(() => new Response("read"), () => new Response("broken", { status: 400 })),
  });
  for (const body of ["zz\r\nabc\r\n0\r\n\r\n", "3\nabc\r\n0\r\n\r\n", "3\r\nabcX\r\n0\r\n\r\n"]) {
    const answer = await exchange(
      gw.port,
      `POST /t/read HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}GET /health HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    assert.deepEqual(statuses(answer), [400], JSON.stringify(body));
  }
  const gzip = await exchange(
    gw.port,
    "POST /health HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
  );
  assert.match(gzip, /^HTTP\/1\.1 501 /);
  await assertServes(gw.url);
});

Deno.test("hardened engine: a head over 32 KiB gets 431; slow and idle headers are closed at headerTimeoutMs", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport(), limits: { headerTimeoutMs: 400 } });
  const big = await exchange(
    gw.port,
    `GET /health HTTP/1.1\r\nHost: a\r\nX-Big: ${"b".repeat(40_000)}\r\n\r\n`,
  );
  assert.match(big, /^HTTP\/1\.1 431 /);
  const started = Date.now();
  // One dribbles a header line, one never sends a byte: both end at the deadline, not before.
  const [dribbled, silent] = await Promise.all([
    exchange(gw.port, "GET /health HTTP/1.1\r\nHost: a\r\nX-Slow: a", 5_000),
    exchange(gw.port, new Uint8Array(0), 5_000),
  ]);
  const elapsed = Date.now() - started;
  assert.equal(dribbled + silent, "", "closed without an answer");
  assert.ok(elapsed >= 350 && elapsed < 3_000, `closed after ${elapsed} ms`);
});

Deno.test("hardened engine: keep-alive, pipelining, HEAD, 100-continue and an unread small body on one connection", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport() });
  gw.gateway.registerRoute({
    path: "/t/echo",
    handler: async (request) => new Response(await request.text()),
  });
  gw.gateway.registerRoute({ path: "/t/ignore", handler: () => new Response("ignored", { status: 401 }) });
  const pipelined = "GET /health HTTP/1.1\r\nHost: a\r\n\r\n" +
    "HEAD /health HTTP/1.1\r\nHost: a\r\n\r\n" +
    "POST /t/ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde" +
    "POST /t/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n" +
    "GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  const answer = await exchange(gw.port, pipelined);
  assert.deepEqual(statuses(answer), [200, 200, 401, 200, 200], answer);
  assert.equal(answer.split('{"ok":true,"status":"live"}').length - 1, 2, "HEAD has no body");
  assert.match(answer, /\r\n\r\nabcde/, "the chunked body reached the route whole");

  // An unread body too big to drain (over 64 KiB) ends the connection after the answer instead.
  const large = await exchange(
    gw.port,
    "POST /t/ignore HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nabc",
  );
  assert.match(large, /^HTTP\/1\.1 401 [\s\S]*connection: close\r\n/);

  // Expect: 100-continue: the interim answer comes when the route starts reading, then the final one.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: gw.port });
  await conn.write(encoder.encode(
    "POST /t/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
  ));
  const buffer = new Uint8Array(4096);
  const interim = decoder.decode(buffer.subarray(0, (await conn.read(buffer))!));
  assert.equal(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  await conn.write(encoder.encode("ping"));
  let rest = "";
  for (let n; (n = await conn.read(buffer)) !== null;) rest += decoder.decode(buffer.subarray(0, n));
  conn.close();
  assert.match(rest, /^HTTP\/1\.1 200 [\s\S]*\r\n\r\nping$/);
});

Deno.test("hardened engine: a streamed answer is flushed chunk by chunk and request.signal aborts on hang-up", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport() });
  const aborted = Promise.withResolvers<void>();
  let release!: () => void;
  gw.gateway.registerRoute({
    path: "/t/events",
    handler: (request) => {
      request.signal.addEventListener("abort", () => aborted.resolve());
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode("data: first\n\n"));
          release = () => controller.enqueue(encoder.encode("data: second\n\n"));
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    },
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: gw.port });
  await conn.write(encoder.encode("GET /t/events HTTP/1.1\r\nHost: a\r\n\r\n"));
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!text.includes("data: first")) {
    text += decoder.decode(buffer.subarray(0, (await conn.read(buffer))!));
  }
  assert.match(text, /transfer-encoding: chunked/);
  assert.doesNotMatch(text, /second/, "the first event arrived on its own");
  release();
  while (!text.includes("data: second")) {
    text += decoder.decode(buffer.subarray(0, (await conn.read(buffer))!));
  }
  conn.close();
  await aborted.promise;

  // An HTTP/1.0 client cannot read chunks: the stream goes out unframed and the connection ends it.
  gw.gateway.registerRoute({
    path: "/t/two",
    handler: () =>
      new Response(
        new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(encoder.encode("one,"));
            await new Promise((r) => setTimeout(r, 50));
            controller.enqueue(encoder.encode("two"));
            controller.close();
          },
        }),
      ),
  });
  const legacy = await exchange(gw.port, "GET /t/two HTTP/1.0\r\n\r\n");
  assert.match(legacy, /^HTTP\/1\.1 200 [\s\S]*connection: close\r\n\r\none,two$/);
  assert.doesNotMatch(legacy, /transfer-encoding/);
});

/** A raw WebSocket client: handshake, masked frames out, frames in. */
async function rawSocket(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(encoder.encode(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  ));
  let pending = new Uint8Array(0);
  const more = async () => {
    const buffer = new Uint8Array(64 * 1024);
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return false;
    const joined = new Uint8Array(pending.length + n);
    joined.set(pending);
    joined.set(buffer.subarray(0, n), pending.length);
    pending = joined;
    return true;
  };
  while (!decoder.decode(pending).includes("\r\n\r\n")) await more();
  const head = decoder.decode(pending.subarray(0, decoder.decode(pending).indexOf("\r\n\r\n") + 4));
  pending = pending.subarray(head.length);
  return {
    head,
    /** Sends one masked frame (`first` is the first header byte: FIN, RSV and opcode). */
    send(first: number, payload: Uint8Array, masked = true, announced = payload.length) {
      const mask = Uint8Array.of(9, 8, 7, 6);
      const size = announced < 126
        ? [announced]
        : announced < 65536
        ? [126, announced >> 8, announced & 255]
        : [
          127,
          0,
          0,
          0,
          0,
          announced >>> 24,
          (announced >> 16) & 255,
          (announced >> 8) & 255,
          announced & 255,
        ];
      const header = [first, (masked ? 0x80 : 0) | size[0], ...size.slice(1), ...(masked ? mask : [])];
      const body = masked ? payload.map((b, i) => b ^ mask[i % 4]) : payload;
      return conn.write(Uint8Array.of(...header, ...body)).catch(() => 0);
    },
    /** The next frame from the server, or null when the connection ends. */
    async frame(): Promise<{ opcode: number; payload: Uint8Array } | null> {
      for (;;) {
        if (pending.length >= 2) {
          let length = pending[1] & 0x7f;
          let at = 2;
          if (length === 126) [length, at] = [(pending[2] << 8) | pending[3], 4];
          if (pending.length >= at + length) {
            const frame = { opcode: pending[0] & 0x0f, payload: pending.slice(at, at + length) };
            pending = pending.subarray(at + length);
            return frame;
          }
        }
        if (!await more()) return null;
      }
    },
    /** The close code the server sent, skipping other frames; 1006 if none came. */
    async closeCode(): Promise<number> {
      for (let f; (f = await this.frame());) {
        if (f.opcode === 8) return f.payload.length ? (f.payload[0] << 8) | f.payload[1] : 1005;
      }
      return 1006;
    },
    close: () => conn.close(),
  };
}

Deno.test("hardened engine: WebSocket framing rules close with 1002, 1007 and 1009 as RFC 6455 says", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport() });
  const text = (s: string) => encoder.encode(s);
  const cases: [string, (s: Awaited<ReturnType<typeof rawSocket>>) => Promise<unknown>, number][] = [
    ["unmasked frame", (s) => s.send(0x81, text("{}"), false), 1002],
    ["reserved bit", (s) => s.send(0xc1, text("{}")), 1002],
    ["unknown opcode", (s) => s.send(0x83, text("{}")), 1002],
    ["fragmented ping", (s) => s.send(0x09, text("p")), 1002],
    ["continuation without a start", (s) => s.send(0x80, text("{}")), 1002],
    ["close with code 1005", (s) => s.send(0x88, Uint8Array.of(0x03, 0xed)), 1002],
    ["invalid UTF-8 split across fragments", async (s) => {
      await s.send(0x01, Uint8Array.of(0x7b, 0xe2));
      await s.send(0x80, Uint8Array.of(0x28, 0xa1));
    }, 1007],
    // 40 KiB + 40 KiB passes each frame's own check but not the 64 KiB pre-auth limit on the message.
    ["fragmented oversize", async (s) => {
      await s.send(0x01, new Uint8Array(40 * 1024).fill(0x20));
      await s.send(0x80, new Uint8Array(40 * 1024).fill(0x20));
    }, 1009],
    // Only the header of a 1 GiB frame is sent: the refusal cannot have waited for the payload.
    ["1 GiB announced", (s) => s.send(0x82, new Uint8Array(0), true, 2 ** 30), 1009],
  ];
  for (const [what, attack, code] of cases) {
    const socket = await rawSocket(gw.port);
    assert.match(socket.head, /^HTTP\/1\.1 101 [\s\S]*sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
    const challenge = await socket.frame();
    assert.match(decoder.decode(challenge!.payload), /connect\.challenge/);
    await attack(socket);
    assert.equal(await socket.closeCode(), code, what);
    socket.close();
  }
  await assertServes(gw.url);
});

Deno.test("hardened engine: ping is answered with its payload, fragments join, a client close is echoed", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport() });
  const socket = await rawSocket(gw.port);
  await socket.frame();
  await socket.send(0x89, encoder.encode("are you there"));
  const pong = await socket.frame();
  assert.equal(pong?.opcode, 10);
  assert.equal(decoder.decode(pong!.payload), "are you there");
  const request = JSON.stringify({ type: "req", id: "h", method: "health", params: {} });
  await socket.send(0x01, encoder.encode(request.slice(0, 10)));
  await socket.send(0x89, new Uint8Array(0));
  await socket.send(0x80, encoder.encode(request.slice(10)));
  // Before connect the gateway answers a request with an error and a 1008 close: the joined message was read.
  const frames: string[] = [];
  for (let f; (f = await socket.frame()) && f.opcode !== 8;) frames.push(decoder.decode(f.payload));
  assert.ok(frames.some((f) => f.includes('"id":"h"')), frames.join("\n"));

  const polite = await rawSocket(gw.port);
  await polite.frame();
  await polite.send(0x88, Uint8Array.of(0x0b, 0xb8, ...encoder.encode("bye")));
  assert.equal(await polite.closeCode(), 3000, "the peer's code is echoed");
  polite.close();
  socket.close();
});

Deno.test("hardened engine: a refused upgrade is an HTTP answer; a bad key gets 400 and a bad version 426", async () => {
  await using gw = await loopbackGateway({
    transport: denoTransport(),
    limits: { maxUnauthenticatedSockets: 1 },
  });
  const held = wsSession(gw.url);
  await held.waitFor((f) => f.event === "connect.challenge");
  const upgrade = (fields: string) =>
    exchange(
      gw.port,
      `GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${fields}\r\n`,
    );
  const full = await upgrade("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
  assert.match(full, /^HTTP\/1\.1 503 [\s\S]*connection: close/);
  assert.match(
    await upgrade("Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n"),
    /^HTTP\/1\.1 400 /,
  );
  const version = await upgrade(
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n",
  );
  assert.match(version, /^HTTP\/1\.1 426 [\s\S]*sec-websocket-version: 13/);
  held.ws.close();
  await held.ended;
});

Deno.test("native engine: still available, serving HTTP and sockets through Deno.serve", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport({ engine: "native" }) });
  await assertServes(gw.url);
  const health = await fetch(`http://127.0.0.1:${gw.port}/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
});

Deno.test("gateway.transport.engine: hardened or native, a known key, anything else refused", () => {
  for (const engine of ["hardened", "native"]) {
    const config = { gateway: { transport: { engine } } };
    assert.equal(validateConfig(config).ok, true, engine);
    assert.deepEqual(findUnknownKeys(config).unknown, [], engine);
  }
  const wrong = validateConfig({ gateway: { transport: { engine: "fast" } } });
  assert.equal(wrong.ok, false);
  assert.equal(!wrong.ok && wrong.issues[0].path, "gateway.transport.engine");
});

Deno.test("hardened engine: close() tells sockets the gateway left open 1001 and drains a request in flight", async () => {
  const closed: number[] = [];
  const server = await denoTransport({ drainTimeoutMs: 2_000 }).listen({
    fetch: () => new Promise((r) => setTimeout(() => r(new Response("finished")), 200)),
    admitUpgrade: () => null,
    acceptSocket: () => ({
      message: () => {},
      messageLimit: () => 1024,
      closed: (code) => void closed.push(code ?? 0),
    }),
  }, { hostname: "127.0.0.1", port: 0 });
  const socket = await rawSocket(server.port);
  const inFlight = exchange(server.port, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  await new Promise((r) => setTimeout(r, 50));
  const stopping = server.close();
  assert.equal(await socket.closeCode(), 1001);
  socket.close();
  await stopping;
  const answer = await inFlight;
  assert.match(answer, /^HTTP\/1\.1 200 [\s\S]*connection: close\r\n[\s\S]*finished$/);
  assert.deepEqual(closed, [1001]);
});

/** A raw connection the test writes packet by packet, reading answers as they come. */
async function rawConnection(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let text = "";
  const reading = (async () => {
    const buffer = new Uint8Array(64 * 1024);
    for (let n; (n = await conn.read(buffer).catch(() => null)) !== null;) {
      text += decoder.decode(buffer.subarray(0, n));
    }
  })();
  return {
    send: (data: string) => conn.write(encoder.encode(data)),
    /** Waits until the answers so far hold `count` status lines (or the connection ends). */
    async answers(count: number): Promise<string> {
      for (let i = 0; i < 300 && statuses(text).length < count; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      return text;
    },
    async [Symbol.asyncDispose]() {
      conn.close();
      await reading;
    },
  };
}

Deno.test("hardened engine: pipelined requests split across packets are answered in order from their own bytes", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport() });
  gw.gateway.registerRoute({
    path: "/t/echo",
    handler: async (request) => new Response(await request.text()),
  });
  // Two requests in one packet, then a third of the first one's length: the third must not replay the first.
  await using first = await rawConnection(gw.port);
  await first.send("GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET /second-xyz HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.deepEqual(statuses(await first.answers(2)), [200, 404]);
  await new Promise((r) => setTimeout(r, 100));
  await first.send("GET /THIRD- HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.deepEqual(statuses(await first.answers(3)), [200, 404, 404]);

  // A POST pipelined behind a GET whose body arrives in a later packet is echoed with those bytes.
  await using second = await rawConnection(gw.port);
  await second.send(
    "GET /health HTTP/1.1\r\nHost: a\r\n\r\nPOST /t/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n",
  );
  await second.answers(1);
  await new Promise((r) => setTimeout(r, 100));
  await second.send("fresh!");
  const answer = await second.answers(2);
  assert.deepEqual(statuses(answer), [200, 200]);
  assert.match(answer, /\r\n\r\nfresh!$/);
});

/** The close code the server sends within `ms`, or -1. */
function closeCodeWithin(socket: Awaited<ReturnType<typeof rawSocket>>, ms: number): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    socket.closeCode().finally(() => clearTimeout(timer)),
    new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), ms))),
  ]);
}

Deno.test("hardened engine: a message of more than 1024 fragments is refused with 1009, empty or tiny", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport() });
  for (const [what, piece] of [["empty", new Uint8Array(0)], ["one-byte", encoder.encode(" ")]] as const) {
    const socket = await rawSocket(gw.port);
    await socket.frame();
    await socket.send(0x01, encoder.encode("{"));
    // 1,100 fragments: far under the 64 KiB pre-auth limit in bytes, over the fragment cap.
    for (let i = 0; i < 1_100; i++) await socket.send(0x00, piece);
    await socket.send(0x80, encoder.encode("}"));
    assert.equal(await closeCodeWithin(socket, 5_000), 1009, what);
    socket.close();
  }
  // Fragments under the cap still join into one message.
  const socket = await rawSocket(gw.port);
  await socket.frame();
  const request = JSON.stringify({ type: "req", id: "f", method: "health", params: {} });
  for (const [i, char] of [...request].entries()) {
    await socket.send(i === 0 ? 0x01 : i === request.length - 1 ? 0x80 : 0x00, encoder.encode(char));
  }
  const frames: string[] = [];
  for (let f; (f = await socket.frame()) && f.opcode !== 8;) frames.push(decoder.decode(f.payload));
  assert.ok(frames.some((f) => f.includes('"id":"f"')), frames.join("\n"));
  socket.close();
});

/** A connection whose peer sends `bytes` of `frame` repeated and never reads what it is sent. */
function floodingPeer(frame: Uint8Array, bytes: number) {
  const stream = new Uint8Array(frame.length * 512);
  for (let i = 0; i < 512; i++) stream.set(frame, i * frame.length);
  const peer = { read: 0, closed: false };
  const conn = {
    read(out: Uint8Array): Promise<number | null> {
      if (peer.closed) return Promise.resolve(null);
      // The source is spent: the peer is silent from then on.
      if (peer.read >= bytes) return new Promise(() => {});
      const at = peer.read % stream.length;
      const n = Math.min(out.length, stream.length - at);
      out.set(stream.subarray(at, at + n));
      peer.read += n;
      return Promise.resolve(n);
    },
    write: () => new Promise<number>(() => {}),
    closeWrite: () => Promise.resolve(),
    close: () => void (peer.closed = true),
  } as unknown as Deno.Conn;
  return { conn, peer };
}

Deno.test("hardened engine: a ping flood from a peer that never reads stops being read once pongs queue up", async () => {
  const ping = Uint8Array.of(0x89, 0x80 | 125, 1, 2, 3, 4, ...new Uint8Array(125));
  const { conn, peer } = floodingPeer(ping, 16 * 1024 * 1024);
  const socket = new EngineWebSocket(conn, new ReadBuffer(conn, () => {}), 60_000);
  void socket.run();
  await new Promise((r) => setTimeout(r, 300));
  const read = peer.read;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(peer.read, read, "reading stopped");
  assert.ok(read < 1024 * 1024, `read ${read} bytes of pings`);
  assert.ok(socket.bufferedAmount() < 512 * 1024, `${socket.bufferedAmount()} bytes of pongs queued`);
  conn.close();
});

Deno.test("hardened engine: a bare CR in a chunk extension or a trailer line fails the body; the connection closes", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport() });
  gw.gateway.registerRoute({
    path: "/t/read",
    handler: (request) =>
      request.text().then(() => new Response("read"), () => new Response("broken", { status: 400 })),
  });
  for (const body of ["5;a\rb\r\nhello\r\n0\r\n\r\n", "0\r\nX: a\rb\r\n\r\n", "0\r\nX: a\x00b\r\n\r\n"]) {
    const answer = await exchange(
      gw.port,
      `POST /t/read HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}GET /health HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    assert.deepEqual(statuses(answer), [400], JSON.stringify(body));
    assert.match(answer, /\r\nconnection: close\r\n/, JSON.stringify(body));
  }
  // A route that never reads the body: the framing error surfaces while draining, and the connection ends.
  const unread = await exchange(
    gw.port,
    "POST /nowhere HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n",
  );
  assert.equal(statuses(unread).length, 1, unread);
});

Deno.test("hardened engine: a peer that stops reading is dropped once a write makes no progress for writeTimeoutMs", async () => {
  const big = new Uint8Array(16 * 1024 * 1024);
  const server = await listenHardened(
    {
      fetch: () => Promise.resolve(new Response(big)),
      admitUpgrade: () => null,
      acceptSocket: () => ({ message: () => {}, messageLimit: () => 1024, closed: () => {} }),
    },
    { hostname: "127.0.0.1", port: 0 },
    undefined,
    { drainTimeoutMs: 1_000, closeGraceMs: 500, writeTimeoutMs: 300 },
  );
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await conn.write(encoder.encode("GET /big HTTP/1.1\r\nHost: a\r\n\r\n"));
  // The answer does not fit the socket buffers: the engine's write stalls while the peer reads nothing.
  await new Promise((r) => setTimeout(r, 2_000));
  let received = 0;
  const buffer = new Uint8Array(1024 * 1024);
  const ended = await Promise.race([
    (async () => {
      for (let n; (n = await conn.read(buffer).catch(() => null)) !== null;) received += n;
      return true;
    })(),
    new Promise<false>((r) => setTimeout(() => r(false), 3_000)),
  ]);
  conn.close();
  await server.close();
  assert.ok(ended, "the engine closed the connection");
  assert.ok(received < big.length, `${received} bytes reached the peer`);
});

Deno.test("hardened engine: over TLS a handshake not finished within headerTimeoutMs is dropped, silent or mid-ClientHello", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { certPath, keyPath, cert } = await selfSignedCert(dir);
    await using gw = await loopbackGateway({
      transport: denoTransport(),
      limits: { headerTimeoutMs: 400 },
      config: {
        gateway: { auth: { mode: "token", token: TOKEN }, tls: { enabled: true, certPath, keyPath } },
      },
    });
    const silent = await Deno.connect({ hostname: "127.0.0.1", port: gw.port });
    const partial = await Deno.connect({ hostname: "127.0.0.1", port: gw.port });
    await partial.write(Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03));
    const started = Date.now();
    const dropped = (conn: Deno.Conn) =>
      Promise.race([
        conn.read(new Uint8Array(16)).then(() => Date.now() - started, () => Date.now() - started),
        new Promise<number>((r) => setTimeout(() => r(-1), 3_000)),
      ]);
    const [a, b] = await Promise.all([dropped(silent), dropped(partial)]);
    silent.close();
    partial.close();
    assert.ok(a >= 300 && b >= 300, `dropped after ${a} and ${b} ms, not before the deadline`);
    assert.ok(a < 3_000 && b < 3_000 && a > 0 && b > 0, `dropped after ${a} and ${b} ms`);
    // A client that completes its handshake is served.
    const client = Deno.createHttpClient({ caCerts: [cert] });
    const health = await fetch(`https://127.0.0.1:${gw.port}/health`, { client });
    assert.equal(health.status, 200);
    await health.body?.cancel();
    client.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hardened engine: a lower-case standard method or an HTTP/1.1 request without Host gets 400", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport() });
  for (
    const request of [
      "get /health HTTP/1.1\r\nHost: a\r\n\r\n",
      "Head /health HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /health HTTP/1.1\r\n\r\n",
    ]
  ) {
    const answer = await exchange(gw.port, request);
    assert.deepEqual(statuses(answer), [400], JSON.stringify(request));
    assert.match(answer, /\r\nconnection: close\r\n/);
  }
  // HTTP/1.0 needs no Host; an unknown method keeps its case (the router answers it).
  assert.deepEqual(statuses(await exchange(gw.port, "GET /health HTTP/1.0\r\n\r\n")), [200]);
  assert.deepEqual(
    statuses(await exchange(gw.port, "Purge /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
      .length,
    1,
  );
});

Deno.test("hardened engine: an unread chunked body closes the connection; HTTP/1.0 keep-alive is echoed", async () => {
  await using gw = await loopbackGateway({ transport: denoTransport() });
  gw.gateway.registerRoute({ path: "/t/ignore", handler: () => new Response("ignored", { status: 401 }) });
  const chunked = await exchange(
    gw.port,
    "POST /t/ignore HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n",
  );
  assert.deepEqual(statuses(chunked), [401], chunked);
  assert.match(chunked, /\r\nconnection: close\r\n/);
  const legacy = await exchange(
    gw.port,
    "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /health HTTP/1.0\r\n\r\n",
  );
  assert.deepEqual(statuses(legacy), [200, 200], legacy);
  const [first, second] = legacy.split(/(?=HTTP\/1\.1 )/);
  assert.match(first, /\r\nconnection: keep-alive\r\n/);
  assert.match(second, /\r\nconnection: close\r\n/);
});

Deno.test("hardened engine: a frame's masking key is read as a number (no copy per frame) and unmasks every length", () => {
  const key = [0x9a, 0x08, 0xf7, 0x61];
  for (const length of [0, 3, 16, 125, 1001]) {
    const plain = Uint8Array.from({ length }, (_, i) => (i * 31) & 255);
    const frame = Uint8Array.of(
      0x82,
      0x80 | 126,
      length >> 8,
      length & 255,
      ...key,
      ...plain.map((b, i) => b ^ key[i & 3]),
    );
    const header = parseFrameHeader(frame, 0, frame.length);
    assert.ok(header && "mask" in header);
    assert.equal(typeof header.mask, "number");
    const payload = frame.slice(header.size);
    unmask(payload, header.mask);
    assert.deepEqual(payload, plain, `length ${length}`);
  }
});

Deno.test("hardened engine: a WebSocket peer that stops reading is dropped once a frame write makes no progress", async () => {
  const closed = Promise.withResolvers<number | undefined>();
  const big = "x".repeat(1024 * 1024);
  const server = await listenHardened(
    {
      fetch: () => Promise.resolve(new Response("no")),
      admitUpgrade: () => null,
      acceptSocket: (socket) => {
        // 32 MiB of frames: more than the socket buffers take from a peer that reads nothing.
        for (let i = 0; i < 32; i++) socket.send(big);
        return { message: () => {}, messageLimit: () => 1024, closed: (code) => closed.resolve(code) };
      },
    },
    { hostname: "127.0.0.1", port: 0 },
    undefined,
    { drainTimeoutMs: 1_000, closeGraceMs: 500, writeTimeoutMs: 300 },
  );
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await conn.write(encoder.encode(
    "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  ));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const code = await Promise.race([
    closed.promise,
    new Promise<string>((r) => (timer = setTimeout(() => r("still open"), 5_000))),
  ]);
  clearTimeout(timer);
  conn.close();
  await server.close();
  assert.equal(code, 1006);
});

Deno.test("hardened engine: bytes that cannot start a request line get 400 at once, not at the header deadline", async () => {
  const server = await denoTransport().listen({
    fetch: () => new Response("never"),
    admitUpgrade: () => null,
    acceptSocket: () => ({ message: () => {}, messageLimit: () => 1024, closed: () => {} }),
  }, { hostname: "127.0.0.1", port: 0, headerTimeoutMs: 60_000 });
  try {
    for (const garbage of [Uint8Array.of(0x00, 0xff, 0x13), new TextEncoder().encode("GET\x01/ HTTP/1.1")]) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      await conn.write(garbage);
      const reply = new Uint8Array(256);
      const read = await conn.read(reply);
      assert.match(new TextDecoder().decode(reply.subarray(0, read ?? 0)), /^HTTP\/1\.1 400/);
      conn.close();
    }
    // A request arriving one byte at a time is still waited for.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    for (const byte of new TextEncoder().encode("\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n")) {
      await conn.write(Uint8Array.of(byte));
    }
    const reply = new Uint8Array(256);
    const read = await conn.read(reply);
    assert.match(new TextDecoder().decode(reply.subarray(0, read ?? 0)), /^HTTP\/1\.1 200/);
    conn.close();
  } finally {
    await server.close();
  }
});
