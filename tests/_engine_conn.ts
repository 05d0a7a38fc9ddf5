// A fake TCP connection under the hardened Deno engine's WebSocket, for tests of the bytes it writes.
import { frameHeader, Opcode } from "../lib/transports/deno/websocket-frames.ts";

/** A connection whose writes are recorded; until `release()`, every write after the first stalls. */
export function recordingConn(stallAfterFirst: boolean) {
  const written: Uint8Array[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const conn = {
    read: () => new Promise<number | null>(() => {}),
    write(bytes: Uint8Array): Promise<number> {
      // Copied at once: a view must not change after it was handed over.
      written.push(bytes.slice());
      const done = written.length > 1 || !stallAfterFirst ? Promise.resolve() : released;
      return done.then(() => bytes.length);
    },
    closeWrite: () => Promise.resolve(),
    close: () => {},
  } as unknown as Deno.Conn;
  return { conn, written, release };
}

/** The bytes of `text` sent as one unmasked text frame of its own. */
export function textFrame(text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const header = frameHeader(Opcode.text, payload.length);
  const frame = new Uint8Array(header.length + payload.length);
  frame.set(header);
  frame.set(payload, header.length);
  return frame;
}
