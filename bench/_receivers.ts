/**
 * The receiving side of bench/cluster.ts's broadcast rows: the held sockets spread over K processes
 * (bench/_broadcast_receiver.ts), so the arrival of the last frame measures the server and the kernel
 * rather than one receiving process's 10,000 `onmessage` calls in a row. Arrivals are compared on one
 * clock: each process reads `performance.timeOrigin + performance.now()`, and its offset from ours is
 * measured (the smallest of a few round trips) and taken out.
 */
import { lines, wallNow } from "./_held_sockets.ts";

const RECEIVER = new URL("./_broadcast_receiver.ts", import.meta.url).pathname;
const CLOCK_ROUNDS = 8;

/** First and last arrival of one broadcast, on our clock (`wallNow`). */
export interface Arrivals {
  first: number;
  last: number;
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

/** One receiving process: its command line and the JSON lines it prints. */
function spawnReceiver(port: number, count: number, token: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", RECEIVER, String(port), String(count), token],
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

/** Starts `k` processes holding `total` sockets between them on `port`. */
export async function startReceivers(
  port: number,
  total: number,
  k: number,
  token: string,
): Promise<Receivers> {
  const t0 = performance.now();
  // One process after the other: together their batches would pass the gateway's per-address cap on
  // sockets still in their handshake.
  const receivers: Receiver[] = [];
  const connected: { held: number; failure?: string }[] = [];
  for (let i = 0; i < k; i++) {
    receivers.push(spawnReceiver(port, Math.floor(total / k) + (i < total % k ? 1 : 0), token));
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
