/**
 * A broadcast's frames on the Node transport, written straight to each socket's `net.Socket` instead of
 * through `ws`'s Sender: the bytes of one unmasked text frame are built once per event and `seq` (sockets
 * with the same history share one `seq`, so most share one buffer), and each socket costs one `write`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import type { PreparedEventFrame } from "../../protocol/frames.ts";

/**
 * What this module reads of a `ws` (8.x) socket. `ws` writes a text frame without compression straight to
 * its socket while its Sender is idle, so a frame written there while the Sender is idle lands in the same
 * order `ws.send` would have put it.
 */
interface WsInternals {
  _socket?: Socket | null;
  _extensions?: Record<string, unknown>;
  _sender?: { _state?: number; _queue?: unknown[]; _firstFragment?: boolean } | null;
}

/** The Sender state in which it writes each frame as it is given (not compressing, not reading a Blob). */
const SENDER_IDLE = 0;

/**
 * `ws`'s socket when a frame written to it directly goes out exactly as `ws.send` would send it: no
 * permessage-deflate (the only extension `ws` negotiates), the Sender idle with nothing queued and not in a
 * fragmented message, the socket still writable. Undefined otherwise, or when this `ws` keeps these fields
 * elsewhere.
 */
function directSocket(ws: WebSocket): Socket | undefined {
  const { _socket: socket, _extensions: extensions, _sender: sender } = ws as unknown as WsInternals;
  if (!socket || !sender || !extensions || extensions["permessage-deflate"] !== undefined) return undefined;
  if (sender._state !== SENDER_IDLE || sender._queue?.length !== 0 || sender._firstFragment !== true) {
    return undefined;
  }
  return socket.writable ? socket : undefined;
}

/** A prepared frame's head and tail as UTF-8, and the last frame built from them. */
interface EncodedFrame {
  frame: PreparedEventFrame;
  head: Buffer;
  tail: Buffer;
  seq: number;
  bytes: Buffer | undefined;
}

const SEQ_KEY = Buffer.from(',"seq":');
/** The last prepared frame's parts: a broadcast sends one frame to every socket in a row. */
let last: EncodedFrame | undefined;

/** The bytes of `frame(seq)` as one unmasked, final text frame, as `ws` frames a server's message. */
export function preparedFrameBytes(frame: PreparedEventFrame, seq: number): Buffer {
  if (last?.frame !== frame) {
    last = { frame, head: Buffer.from(frame.head), tail: Buffer.from(frame.tail), seq, bytes: undefined };
  } else if (last.seq === seq && last.bytes) return last.bytes;
  const { head, tail } = last;
  const digits = String(seq);
  const length = head.length + SEQ_KEY.length + digits.length + tail.length;
  const headerSize = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const bytes = Buffer.allocUnsafe(headerSize + length);
  bytes[0] = 0x81;
  if (length < 126) bytes[1] = length;
  else if (length < 65_536) {
    bytes[1] = 126;
    bytes.writeUInt16BE(length, 2);
  } else {
    bytes[1] = 127;
    bytes.writeUInt32BE(0, 2);
    bytes.writeUInt32BE(length, 6);
  }
  let at = headerSize + head.copy(bytes, headerSize);
  at += SEQ_KEY.copy(bytes, at);
  at += bytes.write(digits, at, "latin1");
  tail.copy(bytes, at);
  last.seq = seq;
  last.bytes = bytes;
  return bytes;
}

/**
 * Sends `frame(seq)` on an open `ws` socket: its prebuilt bytes straight to the `net.Socket` when that is
 * what `ws.send` would write, through `ws.send` otherwise (compression, a busy Sender), so each socket's
 * frames keep their order either way.
 */
export function sendPreparedFrame(ws: WebSocket, frame: PreparedEventFrame, seq: number): void {
  const socket = directSocket(ws);
  if (socket) socket.write(preparedFrameBytes(frame, seq));
  else ws.send(frame(seq));
}
