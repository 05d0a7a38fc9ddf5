/**
 * One server-side WebSocket over a raw connection: reads frames (sizes refused from the header against
 * the gateway's live limit, UTF-8 checked, fragments joined), answers pings and the close handshake, and
 * queues writes so `bufferedAmount` reflects what the peer has not taken yet.
 *
 * @module
 */
import type { SocketHandlers, SocketWire } from "../../ws/wire.ts";
import { MAX_PREAUTH_PAYLOAD_BYTES } from "../../protocol/constants.ts";
import type { PreparedEventFrame } from "../../protocol/frames.ts";
import type { ReadBuffer } from "./read-buffer.ts";
import { writeAll } from "./read-buffer.ts";
import {
  closePayload,
  type FrameError,
  type FrameHeader,
  frameHeader,
  isValidCloseCode,
  Opcode,
  parseFrameHeader,
  unmask,
} from "./websocket-frames.ts";
import { Fragments, MAX_FRAGMENTS } from "./websocket-fragments.ts";
import { WriteSlots } from "./write-slots.ts";

/** Writes are joined up to this many bytes, so a burst of small frames costs one syscall. */
const COALESCE_BYTES = 256 * 1024;
/** Past this many bytes queued for the peer, no frame is read until the queue drains (a ping flood from a
 * peer that never reads cannot grow the pong queue). */
const READ_PAUSE_BYTES = 256 * 1024;
/** Texts up to this many UTF-16 units are encoded straight into their frame (their header is ≤ 4 bytes). */
const SMALL_TEXT = 16 * 1024;
const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Where a socket's writes are timed (the engine drops a peer whose write stalls), and how it writes. */
export interface WriteTiming {
  /** Since when the write in progress has waited for the peer (ms since epoch); 0 while none waits. */
  writingSince: number;
  /** Writes without touching `writingSince` (the socket sets it); `conn.write` when not given. */
  untimedWrite?: (bytes: Uint8Array) => Promise<number>;
}

/**
 * Microtask turns a socket's writer lets pass after each write before it gathers the next chunk. The reads
 * that finish in the same event-loop turn as a write resume their handlers in these microtasks; waiting for
 * them lets their answers join the next write instead of going out one write each. Three is what the timing
 * wrappers around every write used to spend: without them pipelined `health` fell from ~90k to ~73k/s
 * (bench/core_gateway.ts), from more and smaller writes.
 */
const GATHER_TURNS = 3;

/** Writes the engine's sockets may have in flight at once (see write-slots.ts). */
export const MAX_WRITES_IN_FLIGHT = 256;
/** How long a write keeps its slot while other writers wait for one (a peer that stopped reading). */
const WRITE_STALL_MS = 50;
const writeSlots = new WriteSlots(MAX_WRITES_IN_FLIGHT, WRITE_STALL_MS);

/** A WebSocket the engine serves; it is the gateway's {@link SocketWire}. */
export class EngineWebSocket implements SocketWire {
  #handlers: SocketHandlers | undefined;
  #state: "open" | "closing" | "closed" = "open";
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing: Promise<void> | undefined;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  #closedCode = 1006;
  #closedReason = "";
  #ended: Promise<void> | undefined;
  readonly #conn: Deno.Conn;
  readonly #input: ReadBuffer;
  readonly #graceMs: number;
  readonly #timing: WriteTiming;
  readonly #write: (bytes: Uint8Array) => Promise<number>;

  /** `graceMs` bounds the close handshake and the flush before the connection is dropped. */
  constructor(
    conn: Deno.Conn,
    input: ReadBuffer,
    graceMs: number,
    timing: WriteTiming = { writingSince: 0 },
  ) {
    this.#conn = conn;
    this.#input = input;
    this.#graceMs = graceMs;
    this.#timing = timing;
    this.#write = timing.untimedWrite ?? ((bytes) => conn.write(bytes));
  }

  /** Sets the gateway's handlers (given after the socket exists, as `acceptSocket` returns them). */
  attach(handlers: SocketHandlers): void {
    this.#handlers = handlers;
  }

  /** Whether the socket has not yet started closing. */
  get open(): boolean {
    return this.#state === "open";
  }

  /** Queues a text frame (dropped once the socket is closing). */
  send(text: string): void {
    if (this.#state !== "open") return;
    if (text.length > SMALL_TEXT) {
      const payload = encoder.encode(text);
      return this.#push(frameHeader(Opcode.text, payload.length), payload);
    }
    // A frame that goes straight to the socket is cut from a shared slab; one that must wait behind a
    // write gets its own bytes, so a slow peer's queue never keeps a slab alive.
    this.#push(this.#writing ? ownTextFrame(text) : slabTextFrame(text));
  }

  /** Queues `frame` with `seq`, its bytes copied from the frame's parts encoded once per event. */
  sendPrepared(frame: PreparedEventFrame, seq: number): void {
    if (this.#state !== "open") return;
    const parts = encodedParts(frame);
    if (!parts) return this.send(frame(seq));
    this.#push(this.#writing ? ownPreparedFrame(parts, seq) : slabPreparedFrame(parts, seq));
  }

  /** Starts the close handshake with `code`; the connection ends when the peer answers or the grace ends. */
  close(code: number, reason: string): void {
    if (this.#state !== "open") return;
    this.#closedCode = code;
    this.#closedReason = reason;
    this.#sendClose(closePayload(code, reason));
    this.#state = "closing";
    // The peer has a grace period to answer; then the connection is dropped anyway.
    this.#graceTimer = setTimeout(() => this.#drop(), this.#graceMs);
  }

  /** Bytes queued and not yet taken by the peer's socket. */
  bufferedAmount(): number {
    return this.#queued;
  }

  /** Queues raw bytes (the handshake answer) ahead of any frame. */
  writeRaw(bytes: Uint8Array): void {
    this.#push(bytes);
  }

  /** Reads frames until the socket ends; resolves once the connection is closed. */
  async run(): Promise<void> {
    const fragments = new Fragments();
    try {
      while (this.#state !== "closed") {
        while (this.#queued > READ_PAUSE_BYTES && this.#writing) await this.#writing;
        const header = await this.#readHeader();
        if (!header) break;
        if ("code" in header) return await this.#fail(header.code, header.reason);
        const { opcode } = header;
        if (opcode < 8) {
          if ((opcode === 0) !== (fragments.opcode !== 0)) {
            return await this.#fail(
              1002,
              opcode ? "expected a continuation frame" : "unexpected continuation",
            );
          }
          // Refused from the header: an oversize message is never read, let alone held.
          if (fragments.bytes + header.length > this.#limit() || fragments.count >= MAX_FRAGMENTS) {
            return await this.#fail(1009, "message too big");
          }
        }
        const input = this.#input;
        // Usually the whole frame is buffered already: no await for it.
        let payload: Uint8Array;
        if (input.available >= header.length) payload = input.take(header.length);
        else {
          payload = new Uint8Array(header.length);
          if (!await input.readInto(payload)) break;
        }
        unmask(payload, header.mask);
        if (opcode >= 8) {
          if (!await this.#control(opcode, payload)) break;
          continue;
        }
        if (this.#state !== "open") continue;
        if (!header.fin) {
          fragments.add(opcode, payload);
          continue;
        }
        const message = fragments.finish(opcode, payload);
        if (!this.#deliver(message.opcode, message.payload)) {
          return await this.#fail(1007, "invalid UTF-8 in text frame");
        }
      }
    } catch { /* the connection failed: as if it ended */ }
    await this.#drop();
  }

  /** Starts the close handshake with 1001 if the gateway has not closed the socket itself. */
  goAway(): void {
    this.close(1001, "going away");
  }

  #limit(): number {
    return this.#handlers?.messageLimit() ?? MAX_PREAUTH_PAYLOAD_BYTES;
  }

  async #readHeader(): Promise<FrameHeader | FrameError | null> {
    const input = this.#input;
    for (;;) {
      const header = parseFrameHeader(input.buf, input.start, input.end);
      if (header) {
        if ("size" in header) input.skip(header.size);
        return header;
      }
      if (!await input.fill()) return null;
    }
  }

  /** False when the text is not UTF-8. */
  #deliver(opcode: number, payload: Uint8Array): boolean {
    let data: string | Uint8Array = payload;
    if (opcode === Opcode.text) {
      try {
        data = utf8.decode(payload);
      } catch {
        return false;
      }
    }
    this.#handlers?.message(data);
    return true;
  }

  /** Handles a ping, pong or close; false once the socket is done. */
  async #control(opcode: number, payload: Uint8Array): Promise<boolean> {
    if (opcode === Opcode.ping) {
      if (this.#state === "open") this.#push(frameHeader(Opcode.pong, payload.length), payload);
      return true;
    }
    if (opcode === Opcode.pong) return true;
    if (payload.length === 1) return await this.#fail(1002, "invalid close frame"), false;
    const code = payload.length ? (payload[0] << 8) | payload[1] : 1005;
    if (payload.length && !isValidCloseCode(code)) return await this.#fail(1002, "invalid close code"), false;
    let reason: string;
    try {
      reason = utf8.decode(payload.subarray(2));
    } catch {
      return await this.#fail(1007, "invalid UTF-8 in close reason"), false;
    }
    if (this.#state === "open") {
      // Echo the peer's code (an empty close is answered with an empty one: 1005 never goes on the wire).
      this.#closedCode = code;
      this.#closedReason = reason;
      this.#sendClose(payload.length ? payload.subarray(0, 2) : new Uint8Array(0));
    }
    this.#drop();
    return false;
  }

  #sendClose(payload: Uint8Array): void {
    this.#push(frameHeader(Opcode.close, payload.length), payload);
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): a close frame with `code`, then input is discarded until the
   * peer hangs up or the grace period ends, so the close frame is not lost to a reset.
   */
  async #fail(code: number, reason: string): Promise<void> {
    if (this.#state === "open") {
      this.#closedCode = code;
      this.#closedReason = reason;
      this.#sendClose(closePayload(code, reason));
    }
    this.#state = "closing";
    clearTimeout(this.#graceTimer);
    this.#graceTimer = setTimeout(() => this.#drop(), this.#graceMs);
    await this.#writing;
    try {
      await this.#conn.closeWrite();
    } catch { /* already gone */ }
    const input = this.#input;
    while (!this.#ended) {
      input.skip(input.available);
      if (!await input.fill()) break;
    }
    await this.#drop();
  }

  /**
   * Ends the socket: the gateway hears once, queued frames get the grace period to go out, then the
   * connection closes. Resolves when it has.
   */
  #drop(): Promise<void> {
    if (this.#ended) return this.#ended;
    this.#state = "closed";
    clearTimeout(this.#graceTimer);
    try {
      this.#handlers?.closed(this.#closedCode, this.#closedReason);
    } catch { /* the gateway's own failure must not keep the connection open */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#graceMs)));
    this.#ended = Promise.race([this.#writing ?? Promise.resolve(), grace]).then(() => {
      clearTimeout(timer);
      this.#closeConn();
    });
    return this.#ended;
  }

  #closeConn(): void {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }

  /** Queues a frame (its header first when given apart); no rest array: a broadcast calls this per socket. */
  #push(part: Uint8Array, payload?: Uint8Array): void {
    this.#queue.push(part);
    this.#queued += part.length;
    if (payload) {
      this.#queue.push(payload);
      this.#queued += payload.length;
    }
    this.#writing ??= this.#flush();
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length) {
        let count = 0;
        let bytes = 0;
        const queue = this.#queue;
        while (count < queue.length && (count === 0 || bytes + queue[count].length <= COALESCE_BYTES)) {
          bytes += queue[count++].length;
        }
        const chunk = count === 1 ? queue[0] : join(queue, count, bytes);
        if (count === queue.length) queue.length = 0;
        else queue.splice(0, count);
        const taken = writeSlots.take();
        const slot = taken instanceof Promise ? await taken : taken;
        try {
          // Most writes take everything at once: no second async layer for them.
          this.#timing.writingSince = Date.now();
          const written = await this.#write(chunk);
          this.#timing.writingSince = 0;
          if (written < chunk.length) await writeAll(this.#conn, chunk.subarray(written));
        } finally {
          writeSlots.give(slot);
        }
        this.#queued -= bytes;
        for (let turn = 0; turn < GATHER_TURNS; turn++) await undefined;
      }
    } catch {
      this.#timing.writingSince = 0;
      this.#queue = [];
      this.#queued = 0;
      this.#drop();
    } finally {
      this.#writing = undefined;
    }
  }
}

/**
 * Small frames a broadcast writes by the thousand share slabs: one allocation for many frames instead
 * of an off-heap buffer each. A slab lives while a write of one of its frames is in flight; slabs are
 * small, so a peer stuck mid-write keeps at most this much alive beyond its own frame.
 */
const SLAB_BYTES = 16 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

function slabTextFrame(text: string): Uint8Array {
  const room = 4 + text.length * 3;
  if (room > SLAB_BYTES) return ownTextFrame(text);
  if (SLAB_BYTES - slabUsed < room) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const frame = textFrameInto(slab, slabUsed, text);
  slabUsed = frame.byteOffset + frame.length;
  return frame;
}

/** A prepared frame's head and tail as UTF-8. */
interface EncodedParts {
  frame: PreparedEventFrame;
  head: Uint8Array;
  tail: Uint8Array;
}

const SEQ_KEY = encoder.encode(',"seq":');
/** Header (≤ 4 bytes), `,"seq":` and up to 16 digits of a `seq`. */
const SEQ_ROOM = 4 + SEQ_KEY.length + 16;
/** The last prepared frame's parts: a broadcast sends one frame to every socket in a row. */
let lastParts: EncodedParts | undefined;

/** `frame`'s parts encoded (once per frame); undefined when its frames are too big for a 2-byte length. */
function encodedParts(frame: PreparedEventFrame): EncodedParts | undefined {
  if (lastParts?.frame !== frame) {
    lastParts = { frame, head: encoder.encode(frame.head), tail: encoder.encode(frame.tail) };
  }
  const { head, tail } = lastParts;
  return head.length + tail.length + SEQ_ROOM <= SMALL_TEXT ? lastParts : undefined;
}

function slabPreparedFrame(parts: EncodedParts, seq: number): Uint8Array {
  const room = parts.head.length + parts.tail.length + SEQ_ROOM;
  if (SLAB_BYTES - slabUsed < room) {
    if (room > SLAB_BYTES) return ownPreparedFrame(parts, seq);
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const frame = preparedFrameInto(slab, slabUsed, parts, seq);
  slabUsed = frame.byteOffset + frame.length;
  return frame;
}

function ownPreparedFrame(parts: EncodedParts, seq: number): Uint8Array {
  return preparedFrameInto(new Uint8Array(parts.head.length + parts.tail.length + SEQ_ROOM), 0, parts, seq);
}

/** Writes `head`, `,"seq":<seq>`, `tail` as one unmasked text frame into `buf` from `at`. */
function preparedFrameInto(
  buf: Uint8Array,
  at: number,
  { head, tail }: EncodedParts,
  seq: number,
): Uint8Array {
  const digits = String(seq);
  const length = head.length + SEQ_KEY.length + digits.length + tail.length;
  let end = at + 4;
  buf.set(head, end);
  end += head.length;
  buf.set(SEQ_KEY, end);
  end += SEQ_KEY.length;
  for (let i = 0; i < digits.length; i++) buf[end++] = digits.charCodeAt(i);
  buf.set(tail, end);
  return withTextHeader(buf, at, length);
}

function ownTextFrame(text: string): Uint8Array {
  return textFrameInto(new Uint8Array(4 + text.length * 3), 0, text);
}

/** Encodes `text` as an unmasked text frame into `buf` from `at` (room for 4 + 3 × length bytes). */
function textFrameInto(buf: Uint8Array, at: number, text: string): Uint8Array {
  return withTextHeader(buf, at, encoder.encodeInto(text, buf.subarray(at + 4)).written);
}

/** The frame whose `length`-byte payload sits at `at + 4` in `buf`, its header written right before it. */
function withTextHeader(buf: Uint8Array, at: number, length: number): Uint8Array {
  // The header (2 bytes, or 4 past 125) goes right before the payload.
  const start = length < 126 ? at + 2 : at;
  buf[start] = 0x80 | Opcode.text;
  if (length < 126) buf[start + 1] = length;
  else {
    buf[start + 1] = 126;
    buf[start + 2] = length >>> 8;
    buf[start + 3] = length & 0xff;
  }
  return buf.subarray(start, at + 4 + length);
}

function join(parts: Uint8Array[], count: number, total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    out.set(parts[i], offset);
    offset += parts[i].length;
  }
  return out;
}
