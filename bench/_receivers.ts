/**
 * The receiving side of bench/cluster.ts's broadcast rows: the held sockets spread over K processes, so the
 * arrival of the last frame measures the server and the kernel rather than one receiving process's 10,000
 * reads in a row. A process is bench/_broadcast_receiver.ts (Deno) or the compiled
 * bench/_broadcast_receiver.c, which speak the same JSON lines; the C one costs the cores the server needs a
 * fraction of what 10,000 `onmessage` calls do. Arrivals are compared on one clock: each process reads the
 * wall clock (`wallNow`, CLOCK_REALTIME in C), and its offset from ours is measured (the smallest of a few
 * round trips) and taken out.
 */
import { connectFrame, lines, wallNow } from "./_held_sockets.ts";

const RECEIVER = new URL("./_broadcast_receiver.ts", import.meta.url).pathname;
const CLOCK_ROUNDS = 8;

/** First and last arrival of one broadcast, on our clock (`wallNow`). */
export interface Arrivals {
  first: number;
  last: number;
  /** The event's frame on the wire, in bytes (the C receiver says; the Deno one cannot see frames). */
  bytes?: number;
  /** Sockets that closed before the event reached them (the C receiver counts them; the Deno one waits). */
  lost: number;
}

/** K receiving processes holding their share of the sockets. */
export interface Receivers {
  /** Sockets held in all. */
  held: number;
  /** Ms until every process had its share connected (one process after the other). */
  connectMs: number;
  /** Why a process stopped connecting early, if one did. */
  failure?: string;
  /** The processes' ids. */
  pids: number[];
  /** The worst uncertainty of a process's clock offset: half its smallest round trip, in ms. */
  clockErrorMs: number;
  /** Has every socket listen for a frame containing `marker`; resolves once all do, with its arrivals to come. */
  arm(marker: string): Promise<{ arrivals: Promise<Arrivals> }>;
  /** Closes the sockets and ends the processes. */
  close(): Promise<void>;
}

/** The command line of one receiving process holding `count` sockets on `port`. */
export type ReceiverProgram = (port: number, count: number, token: string) => [string, ...string[]];

/** bench/_broadcast_receiver.ts under this Deno. */
export const denoReceiver: ReceiverProgram = (port, count, token) => [
  Deno.execPath(),
  "run",
  "-A",
  RECEIVER,
  String(port),
  String(count),
  token,
];

/**
 * bench/_broadcast_receiver.c compiled at `binary`: it takes the connect frame itself (`connectFrame`, so
 * both receivers send the same bytes), or `raw` for bare TCP connections to bench/_kernel_floor.c.
 */
export const cReceiver = (binary: string, raw = false): ReceiverProgram => (port, count, token) => [
  binary,
  String(port),
  String(count),
  raw ? "raw" : connectFrame("backend", token),
];

/** One receiving process: its command line and the JSON lines it prints. */
function spawnReceiver(program: ReceiverProgram, port: number, count: number, token: string) {
  const [command, ...args] = program(port, count, token);
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const output = lines(child.stdout);
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  return {
    child,
    send: (command: string) => writer.write(encoder.encode(`${command}\n`)),
    async next<T>(): Promise<T> {
      const { value, done } = await output.next();
      if (done) throw new Error("a receiving process ended early");
      return JSON.parse(value);
    },
    async end() {
      await writer.close().catch(() => {});
      await child.status;
    },
  };
}

type Receiver = ReturnType<typeof spawnReceiver>;

/** The receiver's clock minus ours, from the round trip with the smallest delay, and half that delay. */
async function clockOffset(receiver: Receiver): Promise<{ offset: number; error: number }> {
  let best = { offset: 0, error: Infinity };
  for (let i = 0; i < CLOCK_ROUNDS; i++) {
    const sent = wallNow();
    await receiver.send("clock");
    const { now } = await receiver.next<{ now: number }>();
    const back = wallNow();
    if ((back - sent) / 2 < best.error) best = { offset: now - (sent + back) / 2, error: (back - sent) / 2 };
  }
  return best;
}

/** Starts `k` processes (`program`'s) holding `total` sockets between them on `port`. */
export async function startReceivers(
  port: number,
  total: number,
  k: number,
  token: string,
  program: ReceiverProgram = denoReceiver,
): Promise<Receivers> {
  const t0 = performance.now();
  // One process after the other: together their batches would pass the gateway's per-address cap on
  // sockets still in their handshake.
  const receivers: Receiver[] = [];
  const connected: { held: number; failure?: string }[] = [];
  for (let i = 0; i < k; i++) {
    receivers.push(spawnReceiver(program, port, Math.floor(total / k) + (i < total % k ? 1 : 0), token));
    connected.push(await receivers[i].next());
  }
  const connectMs = performance.now() - t0;
  const clocks: { offset: number; error: number }[] = [];
  for (const receiver of receivers) clocks.push(await clockOffset(receiver));
  return {
    held: connected.reduce((n, c) => n + c.held, 0),
    connectMs,
    failure: connected.find((c) => c.failure)?.failure,
    pids: receivers.map((r) => r.child.pid),
    clockErrorMs: Math.max(...clocks.map((c) => c.error)),
    async arm(marker) {
      await Promise.all(receivers.map((r) => r.send(`arm ${marker}`)));
      await Promise.all(receivers.map((r) => r.next<{ armed: true }>()));
      const arrivals = Promise.all(receivers.map((r) => r.next<Arrivals>())).then((all) => ({
        first: Math.min(...all.map((a, i) => a.first - clocks[i].offset)),
        last: Math.max(...all.map((a, i) => a.last - clocks[i].offset)),
        bytes: all[0].bytes,
        lost: all.reduce((n, a) => n + (a.lost ?? 0), 0),
      }));
      return { arrivals };
    },
    async close() {
      await Promise.all(receivers.map((r) => r.send("close")));
      await Promise.all(receivers.map((r) => r.next<{ closed: true }>()));
      await Promise.all(receivers.map((r) => r.end()));
    },
  };
}
