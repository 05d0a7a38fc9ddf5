/**
 * A fragmented WebSocket message being joined: its pieces are copied into one growing buffer, so a
 * message of many tiny (or empty) fragments costs its bytes, not an array per fragment.
 *
 * @module
 */

/** Fragments per message taken; past it the message is refused (1009) whatever its size. */
export const MAX_FRAGMENTS = 1024;

/** The fragments of the message being received. */
export class Fragments {
  /** The opcode of the message's first frame; 0 when no message is open. */
  opcode = 0;
  /** Bytes joined so far. */
  bytes = 0;
  /** Fragments joined so far. */
  count = 0;
  #buf = new Uint8Array(0);

  /** Appends a non-final fragment. */
  add(opcode: number, payload: Uint8Array): void {
    this.opcode ||= opcode;
    this.count++;
    if (this.bytes + payload.length > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.bytes + payload.length, this.#buf.length * 2, 1024));
      grown.set(this.#buf.subarray(0, this.bytes));
      this.#buf = grown;
    }
    this.#buf.set(payload, this.bytes);
    this.bytes += payload.length;
  }

  /** The whole message ending with `last`, and its opcode; the buffer is then empty again. */
  finish(opcode: number, last: Uint8Array): { opcode: number; payload: Uint8Array } {
    if (!this.count) return { opcode, payload: last };
    this.add(opcode, last);
    const message = { opcode: this.opcode, payload: this.#buf.subarray(0, this.bytes) };
    this.opcode = this.bytes = this.count = 0;
    this.#buf = new Uint8Array(0);
    return message;
  }
}
