// The Node transport writes a broadcast's frames straight to each socket's net.Socket when `ws` would
// write the same bytes there at once: the bytes on the wire must be exactly those `ws.send` puts there, in
// the same order, for any size and seq, beside binary frames, behind a busy Sender, with a peer that does
// not read, and on a socket with permessage-deflate (which keeps going through `ws`).
import assert from "node:assert/strict";
import { type WebSocket, WebSocketServer } from "ws";
import { type PreparedEventFrame, preparedEventFrame } from "../lib/protocol/frames.ts";
import { preparedFrameBytes, sendPreparedFrame } from "../lib/transports/node/prepared-frames.ts";

const encoder = new TextEncoder();
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** A raw client: everything the server sends it, recorded from the first byte (the 101 answer included). */
class RawPeer {
  readonly chunks: Uint8Array[] = [];
  #conn: Deno.Conn;
  #reading: Promise<void> | undefined;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async open(port: number, deflate: boolean): Promise<RawPeer> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const extension = deflate ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "";
    await conn.write(encoder.encode(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extension}\r\n`,
    ));
    return new RawPeer(conn);
  }

  /** Starts reading (a peer that has not started yet lets the server's writes pile up). */
  read(): void {
    this.#reading ??= (async () => {
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await this.#conn.read(buf).catch(() => null);
        if (n === null) break;
        this.chunks.push(buf.slice(0, n));
      }
      this.#conn.close();
    })();
  }

  /** Everything received until the server ended the connection. */
  async received(): Promise<Uint8Array> {
    this.read();
    await this.#reading;
    const all = new Uint8Array(this.chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    let at = 0;
    for (const chunk of this.chunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    return all;
  }
}

/**
 * Two sockets on one `ws` server, `reference` (fed through `ws.send`) and `direct` (fed through
 * `sendPreparedFrame`), each with a raw peer; `run` sends on both, then the server ends both connections
 * and the bytes each peer received are compared.
 */
async function twins(
  options: { deflate?: boolean; peersReadLate?: boolean },
  run: (send: (prepared: (ws: WebSocket) => void, plain: (ws: WebSocket) => void) => void) => Promise<void>,
): Promise<{ reference: Uint8Array; direct: Uint8Array }> {
  const wss = new WebSocketServer({
    port: 0,
    host: "127.0.0.1",
    perMessageDeflate: options.deflate ? { threshold: 0 } : false,
  });
  await new Promise((r) => wss.once("listening", r));
  const port = (wss.address() as { port: number }).port;
  const accepted: WebSocket[] = [];
  wss.on("connection", (ws: WebSocket) => accepted.push(ws));
  const peers: RawPeer[] = [];
  for (let i = 0; i < 2; i++) {
    peers.push(await RawPeer.open(port, options.deflate ?? false));
    while (accepted.length <= i) await new Promise((r) => setTimeout(r, 1));
  }
  if (!options.peersReadLate) peers.forEach((peer) => peer.read());
  const [referenceWs, directWs] = accepted;
  await run((prepared, plain) => {
    plain(referenceWs);
    prepared(directWs);
  });
  peers.forEach((peer) => peer.read());
  // Ends each connection once everything queued (in `ws` or in the socket) has been written.
  for (const ws of accepted) {
    await new Promise<void>((resolve) => ws.send(new Uint8Array(0), { binary: true }, () => resolve()));
    (ws as unknown as { _socket: { end(): void } })._socket.end();
  }
  const [reference, direct] = await Promise.all(peers.map((peer) => peer.received()));
  await new Promise((r) => wss.close(r));
  return { reference, direct };
}

/** The event frame whose text for `seq` is `bytes` UTF-8 bytes long (`text` repeated in its payload). */
function frameOfSize(bytes: number, seq: number, text = "x"): PreparedEventFrame {
  const empty = encoder.encode(preparedEventFrame("chat", { text: "" })(seq)).length;
  const unit = encoder.encode(text).length;
  const pad = "y".repeat((bytes - empty) % unit);
  return preparedEventFrame("chat", { text: pad + text.repeat(Math.floor((bytes - empty) / unit)) });
}

Deno.test("node transport: prepared frames are the bytes ws.send writes, around every length boundary", async () => {
  const sizes = [100, 125, 126, 127, 1_000, 65_535, 65_536, 65_537, 200_000];
  const { reference, direct } = await twins({}, async (send) => {
    let round = 0;
    for (const size of sizes) {
      for (const [seq, text] of [[7, "x"], [12_345, "é🦀"], [2 ** 40, "—"]] as const) {
        const frame = frameOfSize(size, seq, text);
        assert.equal(encoder.encode(frame(seq)).length, size);
        // The same frame and seq twice in a row (sockets with one history share the bytes), then a plain
        // text and a binary frame between prepared ones.
        for (let twice = 0; twice < 2; twice++) {
          send((ws) => sendPreparedFrame(ws, frame, seq), (ws) => ws.send(frame(seq)));
        }
        send((ws) => ws.send(`{"round":${round}}`), (ws) => ws.send(`{"round":${round}}`));
        send(
          (ws) => ws.send(new Uint8Array([round & 0xff, 1, 2])),
          (ws) => ws.send(new Uint8Array([round & 0xff, 1, 2])),
        );
        round++;
      }
    }
    await Promise.resolve();
  });
  assert.ok(reference.length > 1_000_000);
  assert.deepEqual(direct, reference);
});

Deno.test("node transport: a prepared frame waits behind a Sender busy with an earlier message", async () => {
  const frame = preparedEventFrame("presence", { presence: [] }, { presence: 1 });
  const { reference, direct } = await twins({}, async (send) => {
    // A Blob is read asynchronously: the Sender holds everything sent meanwhile in its queue.
    const blob = () => new Blob([new Uint8Array(100_000).fill(7)]);
    send((ws) => ws.send(blob()), (ws) => ws.send(blob()));
    for (let seq = 1; seq <= 3; seq++) {
      send((ws) => sendPreparedFrame(ws, frame, seq), (ws) => ws.send(frame(seq)));
    }
    await new Promise((r) => setTimeout(r, 50));
  });
  assert.deepEqual(direct, reference);
});

Deno.test("node transport: prepared frames keep their order behind megabytes a peer has not read yet", async () => {
  const frame = preparedEventFrame("chat", { text: "after the flood" });
  const { reference, direct } = await twins({ peersReadLate: true }, async (send) => {
    for (let seq = 1; seq <= 40; seq++) {
      const big = new Uint8Array(256 * 1024).fill(seq);
      send((ws) => ws.send(big), (ws) => ws.send(big));
      send((ws) => sendPreparedFrame(ws, frame, seq), (ws) => ws.send(frame(seq)));
    }
    await new Promise((r) => setTimeout(r, 20));
  });
  assert.ok(reference.length > 10_000_000);
  assert.deepEqual(direct, reference);
});

Deno.test("node transport: a socket with permessage-deflate gets its prepared frames compressed, through ws", async () => {
  const frame = preparedEventFrame("chat", { text: "compress me ".repeat(50) });
  const { reference, direct } = await twins({ deflate: true }, async (send) => {
    for (let seq = 1; seq <= 5; seq++) {
      send((ws) => sendPreparedFrame(ws, frame, seq), (ws) => ws.send(frame(seq)));
    }
    await new Promise((r) => setTimeout(r, 50));
  });
  assert.deepEqual(direct, reference);
  // RSV1 on the first frame after the 101 answer: it went out compressed.
  const start = new TextDecoder().decode(direct).indexOf("\r\n\r\n") + 4;
  assert.equal(direct[start], 0xc1);
});

Deno.test("node transport: one event's bytes are built once per seq and shared", () => {
  const frame = preparedEventFrame("presence", { presence: [] });
  const first = preparedFrameBytes(frame, 4);
  assert.equal(preparedFrameBytes(frame, 4), first);
  assert.notEqual(preparedFrameBytes(frame, 5), first);
  assert.deepEqual([...first.subarray(2)], [...encoder.encode(frame(4))]);
});
