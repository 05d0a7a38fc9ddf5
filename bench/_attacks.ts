// Raw loopback clients for the hostile benches (bench/hostile.ts, bench/soak.ts --phase hostile): TCP
// sockets that say exactly what an attacker says (half a body, half the headers, nothing at all), a
// hand-rolled WebSocket that can send invalid frames, and readings of a process from /proc.
import { Buffer } from "node:buffer";
import net from "node:net";

/** A raw TCP connection and what came back on it. */
export interface RawConn {
  socket: net.Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves when the peer or we closed it. */
  closed: Promise<void>;
  isClosed(): boolean;
}

/** Connects to `127.0.0.1:port`, optionally from another loopback address; gives up after `timeoutMs`. */
export function rawConnect(port: number, localAddress?: string, timeoutMs = 5000): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to port ${port} took over ${timeoutMs} ms`));
    }, timeoutMs);
    const chunks: Buffer[] = [];
    let closed = false;
    const closedPromise = new Promise<void>((done) =>
      socket.on("close", () => {
        closed = true;
        done();
      })
    );
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("error", () => {});
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve({
        socket,
        received: () => Buffer.concat(chunks),
        closed: closedPromise,
        isClosed: () => closed,
      });
    });
  });
}

/** Writes `data` and resolves once it is handed to the kernel (or the socket failed). */
export function write(conn: RawConn, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (conn.isClosed() || conn.socket.destroyed) return resolve();
    conn.socket.write(data, () => resolve());
  });
}

/** The status code of the first HTTP response in what `conn` received, if any. */
export function statusOf(conn: RawConn): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(conn.received().subarray(0, 64).toString("latin1"));
  return match ? Number(match[1]) : undefined;
}

/** Resolves after `ms`, or earlier when `until()` holds (checked every 20 ms). */
export async function waitUntil(ms: number, until: () => boolean = () => false): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms && !until()) await new Promise((r) => setTimeout(r, 20));
  return performance.now() - t0;
}

/** A hand-rolled WebSocket client: frames are built byte by byte, so they can be wrong on purpose. */
export interface RawWs {
  conn: RawConn;
  /** The upgrade's HTTP status (101 when it was accepted). */
  status: number;
  /** Sends one masked frame. */
  frame(opcode: number, payload: Uint8Array): Promise<void>;
  text(value: string): Promise<void>;
  /** Text frames received (JSON parsed where possible). */
  messages(): unknown[];
  /** The code of the server's close frame, once one came (undefined: none, e.g. the socket just dropped). */
  closeCode(): number | undefined;
}

/** Opens a WebSocket to `127.0.0.1:port` by hand. */
export async function rawWs(
  port: number,
  options: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<RawWs> {
  const conn = await rawConnect(port, options.localAddress);
  const extra = Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  await write(
    conn,
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
  );
  await waitUntil(5000, () => conn.received().includes("\r\n\r\n") || conn.isClosed());
  const status = statusOf(conn) ?? 0;
  const headerEnd = conn.received().indexOf("\r\n\r\n") + 4;
  const parse = () => {
    const frames: { opcode: number; payload: Buffer }[] = [];
    const data = conn.received().subarray(headerEnd);
    let at = 0;
    while (at + 2 <= data.length) {
      const opcode = data[at] & 0x0f;
      let length = data[at + 1] & 0x7f;
      let offset = at + 2;
      if (length === 126) {
        if (offset + 2 > data.length) break;
        length = data.readUInt16BE(offset);
        offset += 2;
      } else if (length === 127) {
        if (offset + 8 > data.length) break;
        length = Number(data.readBigUInt64BE(offset));
        offset += 8;
      }
      if (offset + length > data.length) break;
      frames.push({ opcode, payload: data.subarray(offset, offset + length) });
      at = offset + length;
    }
    return frames;
  };
  const frame = (opcode: number, payload: Uint8Array) => {
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const size = payload.length;
    const head = size < 126
      ? [0x80 | opcode, 0x80 | size]
      : size < 65536
      ? [0x80 | opcode, 0x80 | 126, size >> 8, size & 0xff]
      : [0x80 | opcode, 0x80 | 127, 0, 0, 0, 0, ...[24, 16, 8, 0].map((s) => (size >>> s) & 0xff)];
    const masked = new Uint8Array(size);
    for (let i = 0; i < size; i++) masked[i] = payload[i] ^ mask[i & 3];
    return write(conn, Buffer.concat([Buffer.from(head), Buffer.from(mask), Buffer.from(masked)]));
  };
  return {
    conn,
    status,
    frame,
    text: (value) => frame(0x1, new TextEncoder().encode(value)),
    messages: () =>
      parse().filter((f) => f.opcode === 0x1).map((f) => {
        try {
          return JSON.parse(f.payload.toString("utf8"));
        } catch {
          return f.payload.toString("utf8");
        }
      }),
    closeCode: () => {
      const close = parse().find((f) => f.opcode === 0x8);
      return close && close.payload.length >= 2 ? close.payload.readUInt16BE(0) : close ? 1005 : undefined;
    },
  };
}

/** Completes challenge → connect on a raw socket; resolves with the `connect` response frame. */
export async function rawConnectFrame(
  ws: RawWs,
  token: string,
): Promise<Record<string, unknown> | undefined> {
  await waitUntil(5000, () => ws.messages().length > 0 || ws.conn.isClosed());
  await ws.text(JSON.stringify({
    type: "req",
    id: "c",
    method: "connect",
    params: {
      minProtocol: 4,
      maxProtocol: 4,
      client: { id: "gateway-client", version: "bench", platform: "linux", mode: "backend" },
      role: "operator",
      scopes: ["operator.read"],
      auth: { token },
    },
  }));
  const find = () => ws.messages().find((m) => (m as { id?: string }).id === "c") as Record<string, unknown>;
  await waitUntil(5000, () => Boolean(find()) || ws.conn.isClosed());
  return find();
}

/** One number from /proc/<pid>/status, in MiB (`VmHWM`, `VmRSS`). */
export function procStatusMiB(pid: number, field: "VmHWM" | "VmRSS"): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/** Whether the process is still alive (and not a zombie). */
export function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}
