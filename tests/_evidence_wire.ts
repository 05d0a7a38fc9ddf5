// A probe socket for evidence tests: drives `gateway.handler.acceptSocket` directly (the seam every
// transport uses) so text AND binary input reach the connection, and checks every outbound frame against
// protocol.schema.json as it arrives.
import type { Frame, Gateway } from "../mod.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";

/** Close codes a protocol v4 client accepts from the gateway. */
export const VALID_CLOSE_CODES: ReadonlySet<number> = new Set([1000, 1001, 1008, 1009, 1011, 1012, 1013]);

/** The client end of a probe socket. */
export interface ProbeSocket {
  /** Hands `data` to the gateway as one inbound WebSocket message. */
  deliver(data: string | Uint8Array): void;
  frames: Frame[];
  /** Schema violations seen so far (empty when every frame was valid). */
  invalid: string[];
  closed: Promise<{ code: number; reason: string }>;
  readonly isClosed: boolean;
  /** The first frame (seen or future) matching `predicate`, or `undefined` after `timeoutMs` or a close. */
  waitFor(predicate: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame | undefined>;
  /** Closes from the client side. */
  hangUp(): void;
}

/** Opens a probe socket on a started gateway. */
export function probeSocket(gateway: Gateway, remoteAddress = "127.0.0.1"): ProbeSocket {
  const frames: Frame[] = [];
  const invalid: string[] = [];
  const wake = new Set<() => void>();
  let open = true;
  let resolveClosed!: (value: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (resolveClosed = resolve));
  const handlers = gateway.handler.acceptSocket({
    send(text) {
      if (!open) return;
      const frame = JSON.parse(text) as Frame;
      try {
        assertMatchesSchema("GatewayFrame", frame);
      } catch (error) {
        invalid.push((error as Error).message.slice(0, 400));
      }
      frames.push(frame);
      wake.forEach((w) => w());
    },
    close(code, reason) {
      if (!open) return;
      open = false;
      resolveClosed({ code, reason });
      wake.forEach((w) => w());
    },
    bufferedAmount: () => 0,
  }, { remoteAddress, headers: new Headers(), url: "ws://probe.invalid/" });
  return {
    deliver(data) {
      if (open) handlers.message(data);
    },
    frames,
    invalid,
    closed,
    get isClosed() {
      return !open;
    },
    waitFor(predicate, timeoutMs = 3000) {
      return new Promise((resolve) => {
        const check = () => {
          const hit = frames.find(predicate);
          if (hit || !open) {
            clearTimeout(timer);
            wake.delete(check);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          wake.delete(check);
          resolve(undefined);
        }, timeoutMs);
        wake.add(check);
        check();
      });
    },
    hangUp() {
      if (!open) return;
      open = false;
      handlers.closed(1000, "");
      resolveClosed({ code: 1000, reason: "" });
    },
  };
}
