/**
 * RFC 6455 frame headers: parsing what a client sends (masked, rules of §5 checked) and building what the
 * server sends (unmasked). Payloads are handled by the caller, so a frame's size can be refused from its
 * header before any of it is read.
 *
 * @module
 */

/** Frame opcodes. */
export const Opcode = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

/** A parsed frame header. */
export interface FrameHeader {
  /** The last frame of its message. */
  fin: boolean;
  /** One of {@link Opcode}. */
  opcode: number;
  /** Payload length announced by the header. */
  length: number;
  /** The masking key (clients must mask): its four bytes read big-endian. */
  mask: number;
  /** Bytes the header took. */
  size: number;
}

/** A frame that breaks the protocol: close with this code. */
export interface FrameError {
  /** 1002 protocol error, 1009 too big. */
  code: 1002 | 1009;
  /** The close reason sent. */
  reason: string;
}

/**
 * Parses the header at `buf[start..end)`: the header, a {@link FrameError}, or `undefined` when more
 * bytes are needed.
 */
export function parseFrameHeader(
  buf: Uint8Array,
  start: number,
  end: number,
): FrameHeader | FrameError | undefined {
  if (end - start < 2) return undefined;
  const b0 = buf[start];
  const b1 = buf[start + 1];
  const opcode = b0 & 0x0f;
  if (b0 & 0x70) return { code: 1002, reason: "reserved bits set" };
  if ((opcode > 2 && opcode < 8) || opcode > 10) return { code: 1002, reason: "unknown opcode" };
  if (!(b1 & 0x80)) return { code: 1002, reason: "client frame not masked" };
  let length = b1 & 0x7f;
  let size = 2;
  if (length === 126) {
    if (end - start < 4) return undefined;
    length = (buf[start + 2] << 8) | buf[start + 3];
    size = 4;
  } else if (length === 127) {
    if (end - start < 10) return undefined;
    const high = (buf[start + 2] << 24 >>> 0) + (buf[start + 3] << 16) + (buf[start + 4] << 8) +
      buf[start + 5];
    if (high > 0x1fffff) return { code: 1009, reason: "message too big" };
    length = high * 2 ** 32 +
      ((buf[start + 6] << 24 >>> 0) + (buf[start + 7] << 16) + (buf[start + 8] << 8) + buf[start + 9]);
    size = 10;
  }
  const fin = (b0 & 0x80) !== 0;
  if (opcode >= 8 && (!fin || length > 125)) return { code: 1002, reason: "invalid control frame" };
  if (end - start < size + 4) return undefined;
  const at = start + size;
  const mask = ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
  return { fin, opcode, length, mask, size: size + 4 };
}

// The key's bytes in memory order, reused by every frame: read as a word in the platform's byte order.
const keyBytes = new Uint8Array(4);
const keyWord = new Uint32Array(keyBytes.buffer);

/** Unmasks `payload` in place with the key of {@link FrameHeader.mask}. */
export function unmask(payload: Uint8Array, mask: number): void {
  keyBytes[0] = mask >>> 24;
  keyBytes[1] = mask >>> 16;
  keyBytes[2] = mask >>> 8;
  keyBytes[3] = mask;
  const n = payload.length;
  let i = 0;
  // Four bytes at a time when aligned; the tail byte by byte.
  if (payload.byteOffset % 4 === 0 && n >= 16) {
    const words = new Uint32Array(payload.buffer, payload.byteOffset, n >>> 2);
    const key = keyWord[0];
    for (let w = 0; w < words.length; w++) words[w] ^= key;
    i = words.length * 4;
  }
  for (; i < n; i++) payload[i] ^= keyBytes[i & 3];
}

/** The header of an unmasked server frame carrying `length` bytes. */
export function frameHeader(opcode: number, length: number): Uint8Array {
  if (length < 126) return Uint8Array.of(0x80 | opcode, length);
  if (length < 65536) return Uint8Array.of(0x80 | opcode, 126, length >>> 8, length & 0xff);
  const header = new Uint8Array(10);
  header[0] = 0x80 | opcode;
  header[1] = 127;
  new DataView(header.buffer).setBigUint64(2, BigInt(length));
  return header;
}

const encoder = new TextEncoder();

/** A close frame's payload: the code and a reason cut to fit a control frame. */
export function closePayload(code: number, reason: string): Uint8Array {
  let bytes = encoder.encode(reason);
  if (bytes.length > 123) {
    // Cut on a character boundary so the peer's UTF-8 check passes.
    let cut = 123;
    while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
    bytes = bytes.subarray(0, cut);
  }
  const payload = new Uint8Array(2 + bytes.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(bytes, 2);
  return payload;
}

/** Whether a peer may send `code` in a close frame (RFC 6455 §7.4). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
