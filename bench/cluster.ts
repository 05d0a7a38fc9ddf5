import "./_record.ts";
/**
 * Issue 16's figures, each beside one process in the same run: real `openclaw gateway run` replicas on one
 * redis-server (`appendfsync always`) against a replica with the in-process and JSONL stores.
 *
 * - chat turns (`chat.send` → `chat` final on the sender) and the same turn seen by a client of another
 *   replica (or of the same process): first event after the send, and how much later than the sender it
 *   gets the final;
 * - handshake latency (a local tool's, and a browser's, whose address is rate limited), handshakes per
 *   second with 16 in flight, and pipelined `health` throughput, Redis stores vs in-process stores;
 * - N authenticated sockets on one server, on each transport: RSS per socket beside a bare server on the
 *   same transport (`Deno.upgradeWebSocket`; `node:http` + `ws` under Node), and one broadcast (a
 *   `presence` event) to all N: the server's own fan-out time (the metric
 *   `openclaw_gateway_event_fanout_seconds`, read over `metrics.snapshot`; the floor times its loop the
 *   same way), when the held sockets have it, and the CPU the server and the receiving processes spent
 *   on it. The sockets are held by `--receivers` processes (bench/_receivers.ts) whose arrivals are
 *   compared on one clock; each server makes `--broadcasts` of them (medians shown). The receiving
 *   processes are bench/_broadcast_receiver.c, compiled here with `cc -O2` (`--receiver deno` for the Deno
 *   one, also the fallback without `cc`): 10,000 `onmessage` calls would cost the server's cores ~100 ms a
 *   broadcast. The first rows are the kernel floor (bench/_kernel_floor.c, with `cc`): plain C writing one
 *   presence-sized frame to as many raw loopback TCP connections from one thread and from two, which no
 *   server on the machine can beat. `--profile` also takes a CPU profile of each server around one more
 *   broadcast and prints where the busy time went (the timings of that run are under the profiler: read the
 *   shares, not the ms); `--syscalls` traces the server's write syscalls during one more (`perf trace`):
 *   when the frames really reached the kernel.
 *   `--rows` picks servers: the Deno floor, the gateway on its hardened and native engines and with Redis
 *   stores, the Node floor and the gateway on the Node transport;
 * - three replicas behind HAProxy holding 3× the sockets of one, and `health` throughput through it.
 *
 *   deno run -A bench/cluster.ts [--sockets 10000] [--proxied 3000] [--turns 200] [--handshakes 300] [--seconds 3]
 *     [--profile] [--syscalls] [--sockets-only] [--stores-only] [--receivers 1] [--broadcasts 5]
 *     [--receiver c|deno] [--rows kernel-floor,deno-floor,deno,deno-native,deno-redis,node-floor,node]
 *
 * `--stores-only` stops after the turn and handshake tables (and the Redis round trips each costs);
 * `--sockets-only` runs just the socket and broadcast rows.
 *
 * `--proxied` is per replica behind HAProxy: HAProxy spends two descriptors per connection and cannot go
 * past its hard RLIMIT_NOFILE, so 3 × proxied × 2 must stay under it.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startHaproxy } from "../tests/_balancers.ts";
import { type RedisServer, startRedisServer } from "../tests/_redis_server.ts";
import { freePort } from "../tests/_runner_process.ts";
import { collectGarbage, type ProfileSummary, startProfiling } from "./_cpu_profile.ts";
import {
  closeAll,
  connectFrame as connectFrameFor,
  handshake as openSocket,
  hold as holdSockets,
  lines,
  wallNow,
} from "./_held_sockets.ts";
import {
  cReceiver,
  denoReceiver,
  type ReceiverProgram,
  type Receivers,
  startReceivers,
} from "./_receivers.ts";
import { traceWrites, type WriteSpan } from "./_write_trace.ts";

const { values } = parseArgs({
  options: {
    sockets: { type: "string", default: "10000" },
    proxied: { type: "string", default: "3000" },
    turns: { type: "string", default: "200" },
    handshakes: { type: "string", default: "300" },
    seconds: { type: "string", default: "3" },
    profile: { type: "boolean", default: false },
    syscalls: { type: "boolean", default: false },
    "sockets-only": { type: "boolean", default: false },
    "stores-only": { type: "boolean", default: false },
    receivers: { type: "string", default: "1" },
    broadcasts: { type: "string", default: "5" },
    receiver: { type: "string" },
    rows: { type: "string", default: "kernel-floor,deno-floor,deno,deno-native,deno-redis,node-floor,node" },
  },
});
const SOCKETS = Number(values.sockets);
const PROXIED = Number(values.proxied);
const TURNS = Number(values.turns);
const HANDSHAKES = Number(values.handshakes);
const SECONDS = Number(values.seconds);
/** Processes the held sockets are spread over (bench/_broadcast_receiver.ts). */
const RECEIVERS = Number(values.receivers);
/** Broadcasts per server in the socket rows. */
const BROADCASTS = Number(values.broadcasts);
/** Which socket rows run (`kernel-floor` and the keys of `socketServers`). */
const ROWS = values.rows.split(",");
/** Handshakes in flight for the handshakes/s column. */
const HANDSHAKE_CONCURRENCY = 16;
const TOKEN = "bench-cluster-token-0123456789";
const MAIN = new URL("../runner/main.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

/** A runner process on loopback, with the Redis stores when `redis` is given. */
interface Server {
  name: string;
  port: number;
  pid: number;
  /** Where its inspector listens (`--profile`). */
  inspectPort?: number;
  stop(): Promise<void>;
}

async function waitReady(port: number, path = "/ready"): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const answer = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
    await answer?.body?.cancel();
    if (answer?.ok) return;
    if (Date.now() > deadline) throw new Error(`nothing ready on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startReplica(
  name: string,
  redis?: RedisServer,
  inspectPort?: number,
  engine?: "native",
): Promise<Server> {
  const home = await Deno.makeTempDir({ prefix: "openclaw-bench-cluster-" });
  await Deno.mkdir(join(home, ".openclaw"));
  const port = freePort();
  const config = {
    gateway: {
      mode: "local",
      port,
      auth: { token: TOKEN },
      // HAProxy forwards the client's address; a forwarded header from an untrusted peer is refused.
      trustedProxies: ["127.0.0.1"],
      cluster: { keyPrefix: "bench:" },
      ...(engine ? { transport: { engine } } : {}),
    },
    agents: { defaults: { model: { primary: "local/scripted-1" } } },
    logging: { level: "warn" },
  };
  await Deno.writeTextFile(join(home, ".openclaw", "openclaw.json"), JSON.stringify(config));
  const env: Record<string, string> = {
    HOME: home,
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR: Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache", "deno"),
    NO_COLOR: "1",
  };
  if (redis) env.OPENCLAW_REDIS_URL = redis.url;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...inspectFlag(inspectPort), MAIN, "gateway"],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitReady(port);
  return {
    name,
    port,
    pid: child.pid,
    inspectPort,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(home, { recursive: true });
    },
  };
}

const inspectFlag = (port?: number) => port ? [`--inspect=127.0.0.1:${port}`] : [];

/** A server process that prints its port on its first line (run from the repo root, for Node's `tsx`). */
async function spawnPrinted(
  name: string,
  command: string,
  args: string[],
  inspectPort?: number,
): Promise<Server> {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${name} ended before printing its port`);
    text += value;
  }
  reader.releaseLock();
  return {
    name,
    port: Number(text.trim()),
    pid: child.pid,
    inspectPort,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

const FLOOR = new URL("./_broadcast_floor.ts", import.meta.url).pathname;
const NODE_GATEWAY = new URL("./_node_gateway.ts", import.meta.url).pathname;

/** The floor on Deno: `Deno.upgradeWebSocket`, a challenge, `res ok` for everything, one event to all on request. */
const startDenoFloor = (inspectPort?: number) =>
  spawnPrinted("bare Deno.upgradeWebSocket", Deno.execPath(), [
    "run",
    "-A",
    ...inspectFlag(inspectPort),
    FLOOR,
  ], inspectPort);
/** The same floor under Node: `node:http` + `ws`. */
const startNodeFloor = (inspectPort?: number) =>
  spawnPrinted(
    "bare node:http + ws (Node)",
    "node",
    [...inspectFlag(inspectPort), "--import", "tsx", FLOOR],
    inspectPort,
  );
/** The gateway on the Node transport under Node, in-process stores. */
const startNodeGateway = (inspectPort?: number) =>
  spawnPrinted("one process, Node transport (in-process stores)", "node", [
    ...inspectFlag(inspectPort),
    "--import",
    "tsx",
    NODE_GATEWAY,
    TOKEN,
  ], inspectPort);

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]);
}

function openFds(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const connectFrame = (mode: string, instanceId?: string) => connectFrameFor(mode, TOKEN, instanceId);
// Held sockets are `backend` clients, which get no presence row: a row per socket would make every
// connect announce the whole list to every socket already there.
const BACKEND = connectFrame("backend");
const handshake = (port: number, frame = BACKEND, browser = false) => openSocket(port, frame, browser);
const hold = (port: number, count: number) => holdSockets(port, count, BACKEND);

let ids = 0;

/** Sends a request on `ws` and resolves with its response frame. */
function request(ws: WebSocket, method: string, params: unknown): Promise<Record<string, unknown>> {
  const id = `r${++ids}`;
  return new Promise((resolve) => {
    const listener = (e: MessageEvent) => {
      if (!String(e.data).includes(`"id":"${id}"`)) return;
      ws.removeEventListener("message", listener);
      resolve(JSON.parse(e.data));
    };
    ws.addEventListener("message", listener);
    ws.send(JSON.stringify({ type: "req", id, method, params }));
  });
}

/** Resolves with the time the first `chat` event of `runId` (a `chat.send`'s idempotency key) in `state` (any state when unset) arrives on `ws`. */
function chatEventAt(ws: WebSocket, runId: string, state?: string): Promise<number> {
  return new Promise((resolve) => {
    const listener = (e: MessageEvent) => {
      const data = String(e.data);
      if (!data.startsWith('{"type":"event","event":"chat"') || !data.includes(runId)) return;
      if (state && !data.includes(`"state":"${state}"`)) return;
      ws.removeEventListener("message", listener);
      resolve(performance.now());
    };
    ws.addEventListener("message", listener);
  });
}

interface TurnFigures {
  turn: number[];
  firstElsewhere: number[];
  skew: number[];
}

/** A sender and a watcher socket making turns, and the figures of the turns kept so far. */
interface TurnPair {
  sender: WebSocket;
  watcher: WebSocket;
  made: number;
  figures: TurnFigures;
}

async function turnPair(senderPort: number, watcherPort: number): Promise<TurnPair> {
  const [sender, watcher] = [await handshake(senderPort), await handshake(watcherPort)];
  return { sender, watcher, made: 0, figures: { turn: [], firstElsewhere: [], skew: [] } };
}

/** `count` sequential turns on `pair` (over ten sessions in turn); their figures kept unless `warmUp`. */
async function turns(pair: TurnPair, count: number, warmUp = false): Promise<TurnFigures> {
  const { sender, watcher } = pair;
  const figures: TurnFigures = { turn: [], firstElsewhere: [], skew: [] };
  for (let n = 0; n < count; n++) {
    const i = pair.made++;
    const key = `bench-${crypto.randomUUID()}`;
    const firstThere = chatEventAt(watcher, key);
    const finalHere = chatEventAt(sender, key, "final");
    const finalThere = chatEventAt(watcher, key, "final");
    const t0 = performance.now();
    const sent = request(sender, "chat.send", {
      sessionKey: `bench-${i % 10}`,
      message: `turn ${i}`,
      idempotencyKey: key,
    });
    const [first, here, there] = await Promise.all([firstThere, finalHere, finalThere, sent]);
    figures.turn.push(here - t0);
    figures.firstElsewhere.push(first - t0);
    figures.skew.push(there - here);
  }
  if (!warmUp) {
    for (const k of ["turn", "firstElsewhere", "skew"] as const) pair.figures[k].push(...figures[k]);
  }
  return figures;
}

/** Blocks the turn rows are interleaved in: drift in the machine's load reaches every row alike. */
const TURN_BLOCKS = 10;

/**
 * TURNS turns on each pair (rounded up to whole blocks), interleaved in {@link TURN_BLOCKS} blocks (after a
 * warm-up of a tenth on each),
 * and each block's turn p50 minus the first pair's in the same round: a paired difference.
 */
async function interleavedTurns(pairs: TurnPair[]): Promise<number[][]> {
  for (const pair of pairs) await turns(pair, Math.ceil(TURNS / 10), true);
  const over: number[][] = pairs.map(() => []);
  const perBlock = Math.ceil(TURNS / TURN_BLOCKS);
  for (let block = 0; block < TURN_BLOCKS; block++) {
    const p50s: number[] = [];
    // Every other block in reverse, so no row always follows the same one (its fsync or GC tail).
    const order = pairs.map((_, i) => block % 2 ? pairs.length - 1 - i : i);
    for (const i of order) p50s[i] = percentile((await turns(pairs[i], perBlock)).turn, 0.5);
    p50s.forEach((p50, i) => over[i].push(p50 - p50s[0]));
  }
  return over;
}

async function handshakeLatency(port: number, browser = false): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < HANDSHAKES; i++) {
    const t0 = performance.now();
    const ws = await handshake(port, connectFrame("webchat"), browser);
    times.push(performance.now() - t0);
    await closeAll([ws]);
  }
  return times;
}

/** Webchat connect + close cycles, {@link HANDSHAKE_CONCURRENCY} at a time, for SECONDS; handshakes per second. */
async function handshakeRate(port: number): Promise<number> {
  let completed = 0;
  const deadline = performance.now() + SECONDS * 1000;
  await Promise.all(Array.from({ length: HANDSHAKE_CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      await closeAll([await handshake(port, connectFrame("webchat"))]);
      completed++;
    }
  }));
  return completed / SECONDS;
}

/** 8 sockets × 16 `health` requests in flight for SECONDS; requests per second. */
async function pipelinedHealth(port: number): Promise<number> {
  const clients = await Promise.all(Array.from({ length: 8 }, () => handshake(port)));
  let completed = 0;
  const deadline = performance.now() + SECONDS * 1000;
  await Promise.all(clients.map((ws, c) =>
    new Promise<void>((resolve) => {
      let next = 0;
      let inflight = 0;
      const send = () => {
        inflight++;
        ws.send(JSON.stringify({ type: "req", id: `${c}-${next++}`, method: "health", params: {} }));
      };
      ws.onmessage = (e) => {
        if (!String(e.data).startsWith('{"type":"res"')) return;
        completed++;
        inflight--;
        if (performance.now() < deadline) send();
        else if (inflight === 0) resolve();
      };
      for (let i = 0; i < 16; i++) send();
    })
  ));
  await closeAll(clients);
  return completed / SECONDS;
}

/** The server's own time for its `presence` fan-outs so far, and how many there were (gateway metrics). */
async function fanOutSoFar(probe: WebSocket): Promise<{ ms: number; count: number }> {
  const answer = await request(probe, "metrics.snapshot", {});
  const text = (answer.payload as { text: string }).text;
  const read = (series: string) =>
    Number(
      new RegExp(`^openclaw_gateway_event_fanout_seconds_${series}\\{event="presence"\\} (\\S+)$`, "m")
        .exec(text)?.[1] ?? 0,
    );
  return { ms: read("sum") * 1000, count: read("count") };
}

/** What one broadcast took: ms on the shared clock, and the server's own fan-out ms. */
interface BroadcastFigures {
  /** From the bench starting the announcing connect until the last held socket had the event. */
  total: number;
  /** Between the first and the last arrival. */
  spread: number;
  /** The server's fan-out loop (the gateway's metric; the floor times its loop the same way). */
  fanOut: number;
  /** How many `presence` fan-outs the gateway counted (1 expected). */
  events: number;
  /** CPU ms the server used from the announcing connect until the last arrival, and ms it waited for a CPU. */
  serverCpu: { run: number; wait: number };
  /** The same for the receiving processes together. */
  receiversCpu: { run: number; wait: number };
  /** Held sockets that closed before the event reached them (the C receiver counts them). */
  lost: number;
  /** The event's frame on the wire, in bytes (the C receiver says). */
  bytes?: number;
  profile?: ProfileSummary;
  /** With `--syscalls`: the server's frame writes as the kernel saw them. */
  writes?: WriteSpan;
}

let announcements = 0;

/**
 * One broadcast: a `webchat` client's connect makes one `presence` event for every socket (the held
 * `backend` ones have no rows, so it stays small; the announcer's `instanceId` marks it); the floor sends
 * one when asked. With `sampleCpu`, the server's CPU profile around it.
 */
async function broadcast(
  server: Server,
  receivers: Receivers,
  floor: boolean,
  sampleCpu: boolean,
  traceSyscalls = false,
): Promise<BroadcastFigures> {
  const { port } = server;
  const marker = `bench-announcer-${++announcements}`;
  const probe = await handshake(port);
  const { arrivals } = await receivers.arm(marker);
  const before = floor ? undefined : await fanOutSoFar(probe);
  const profiling = sampleCpu ? await startProfiling(server.inspectPort!) : undefined;
  const tracing = traceSyscalls ? await traceWrites(server.pid) : undefined;
  const cpu = cpuWindow([server.pid, ...receivers.pids]);
  const t0 = wallNow();
  const announcer = await handshake(port, floor ? BACKEND : connectFrame("webchat", marker));
  const floorAnswer = floor ? request(announcer, "broadcast", { instanceId: marker }) : undefined;
  const { first, last, lost, bytes } = await arrivals;
  const used = cpu();
  const profile = await profiling?.stop();
  const writes = await tracing?.stop();
  let fanOut: number;
  let events = 1;
  if (floorAnswer) fanOut = ((await floorAnswer).payload as { fanOutMs: number }).fanOutMs;
  else {
    const after = await fanOutSoFar(probe);
    events = after.count - before!.count;
    fanOut = after.ms - before!.ms;
  }
  await closeAll([announcer, probe]);
  // The announcer's leaving is announced to every socket too; let that pass before the next round.
  await new Promise((r) => setTimeout(r, 500));
  return {
    total: last - t0,
    spread: last - first,
    fanOut,
    events,
    serverCpu: used[0],
    receiversCpu: sumCpu(used.slice(1)),
    lost,
    bytes,
    profile,
    writes,
  };
}

type CpuUsed = { run: number; wait: number };

/** Starts counting the CPU of `pids`; the function returned reads what each has used since. */
function cpuWindow(pids: number[]): () => CpuUsed[] {
  const before = pids.map(scheduled);
  return () =>
    pids.map(scheduled).map((after, i) => ({
      run: after.run - before[i].run,
      wait: after.wait - before[i].wait,
    }));
}

const sumCpu = (used: CpuUsed[]): CpuUsed =>
  used.reduce((sum, u) => ({ run: sum.run + u.run, wait: sum.wait + u.wait }), { run: 0, wait: 0 });

/**
 * Redis's own counters: socket reads it served (round trips, pipelined commands sharing one), commands run
 * (script bodies included) and its CPU seconds.
 */
async function redisCounters(redis: RedisServer): Promise<{ reads: number; commands: number; cpu: number }> {
  const { stdout } = await new Deno.Command("redis-cli", { args: ["-u", redis.url, "INFO", "all"] }).output();
  const text = new TextDecoder().decode(stdout);
  const field = (name: string) => Number(new RegExp(`\\n${name}:([\\d.]+)`).exec(text)![1]);
  return {
    reads: field("total_reads_processed"),
    commands: field("total_commands_processed"),
    cpu: field("used_cpu_user") + field("used_cpu_sys"),
  };
}

/**
 * Ms the process's threads have run on a CPU so far (the scheduler's ns account: exact where `cpuSeconds`
 * counts 10 ms ticks), and ms they waited for one while runnable.
 */
function scheduled(pid: number): { run: number; wait: number } {
  let run = 0;
  let wait = 0;
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const [ran, waited] = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ");
      run += Number(ran) / 1e6;
      wait += Number(waited) / 1e6;
    } catch { /* the thread ended meanwhile */ }
  }
  return { run, wait };
}

/** CPU seconds a process used so far (user + system; 10 ms ticks). */
function cpuSeconds(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Redis round trips and commands per call of `work` on a replica, over `count` calls (the INFO calls discounted). */
async function perCall(redis: RedisServer, replicas: Server[], count: number, work: () => Promise<void>) {
  const before = await redisCounters(redis);
  const cpuBefore = replicas.map((r) => cpuSeconds(r.pid));
  for (let i = 0; i < count; i++) await work();
  // Writes sent after the last answer (the lease's release, the run's end) land within this.
  await new Promise((r) => setTimeout(r, 200));
  const after = await redisCounters(redis);
  const cpu = replicas.map((r, i) => (cpuSeconds(r.pid) - cpuBefore[i]) * 1000 / count);
  return {
    reads: (after.reads - before.reads - 1) / count,
    commands: (after.commands - before.commands - 1) / count,
    redisCpuMs: (after.cpu - before.cpu) * 1000 / count,
    cpuMs: cpu,
  };
}

/** One `chat.send` turn on `ws`, resolved at the sender's `chat` final. */
async function oneTurn(ws: WebSocket, session: string): Promise<void> {
  const key = `bench-${crypto.randomUUID()}`;
  const final = chatEventAt(ws, key, "final");
  await request(ws, "chat.send", { sessionKey: session, message: "count", idempotencyKey: key });
  await final;
}

const ms = (n: number) => n.toFixed(2);
const signed = (n: number) => `${n < 0 ? "−" : "+"}${Math.abs(n).toFixed(2)}`;
const mib = (kib: number) => (kib / 1024).toFixed(1);
const line = (cells: (string | number)[]) => console.log(`| ${cells.join(" | ")} |`);

/** The socket rows `--rows` picks from, in the order they run: `[floor, start]` each. */
function socketServers(
  redis: RedisServer,
): Record<string, [floor: boolean, start: (inspect: number) => Promise<Server>]> {
  return {
    "deno-floor": [true, startDenoFloor],
    deno: [false, (inspect) => startReplica("one process (in-process stores)", undefined, inspect)],
    "deno-native": [
      false,
      (inspect) =>
        startReplica("one process, native engine (in-process stores)", undefined, inspect, "native"),
    ],
    "deno-redis": [false, (inspect) => startReplica("replica (Redis stores)", redis, inspect)],
    "node-floor": [true, startNodeFloor],
    node: [false, startNodeGateway],
  };
}

const median = (values: number[]) => percentile(values, 0.5);

/** The compiled C programs of the broadcast rows, in a temp dir of their own. */
interface CPrograms {
  receiver: string;
  floor: string;
}

/**
 * bench/_broadcast_receiver.c and bench/_kernel_floor.c built with `cc -O2`; undefined, with a note saying
 * why, when there is no `cc` or it fails (the socket rows then use the Deno receiver and skip the floor).
 */
async function compileC(): Promise<CPrograms | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "openclaw-bench-c-" });
  const built = { receiver: join(dir, "_broadcast_receiver"), floor: join(dir, "_kernel_floor") };
  for (const binary of Object.values(built)) {
    const source = new URL(`./${binary.slice(dir.length + 1)}.c`, import.meta.url).pathname;
    const result = await new Deno.Command("cc", {
      args: ["-O2", "-Wall", "-Wextra", "-pthread", "-o", binary, source],
      stdout: "null",
      stderr: "piped",
    }).output().catch((error: Error) => ({
      success: false,
      stderr: new TextEncoder().encode(error.message),
    }));
    if (!result.success) {
      const why = new TextDecoder().decode(result.stderr).trim().split("\n")[0];
      console.log(
        `\nNote: no C programs (\`cc\` could not build ${source}: ${why}); the Deno receiver holds the sockets and the kernel floor rows are skipped.`,
      );
      await Deno.remove(dir, { recursive: true });
      return undefined;
    }
  }
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  return built;
}

/** The receiving processes `--receiver` asks for: the C one (when it compiled) unless `deno`. */
function receiverFor(c?: CPrograms): { program: ReceiverProgram; name: string } {
  if (values.receiver !== undefined && !["c", "deno"].includes(values.receiver)) {
    throw new Error(`--receiver is c or deno, not ${values.receiver}`);
  }
  if (values.receiver === "deno" || !c) {
    return { program: denoReceiver, name: "bench/_broadcast_receiver.ts" };
  }
  return { program: cReceiver(c.receiver), name: "bench/_broadcast_receiver.c" };
}

/** What held the sockets, for the notes under the table. */
function receiverNote(name: string, clockErrorMs: number): string {
  const processes = `${RECEIVERS} receiving process${RECEIVERS === 1 ? "" : "es"} (\`--receivers\`)`;
  const clock = `arrival times compared on one clock (each process's offset measured to ±${
    ms(clockErrorMs)
  } ms)`;
  const cores = `they, the server and the bench share the machine's ${navigator.hardwareConcurrency} cores`;
  return name.endsWith(".c")
    ? `The sockets are held by ${processes} of ${name} (\`--receiver c\`), ${clock}: one epoll loop reading each socket's frame once, nothing allocated per frame, and an arrival is the kernel's receive timestamp of the frame (when it reached the socket), so during a broadcast it reads in batches (1 ms apart) instead of being woken inside the server's \`write(2)\` for every socket; ${cores}, and its CPU per broadcast is the last column.`
    : `The sockets are held by ${processes} of ${name} (\`--receiver deno\`, or no \`cc\`), ${clock}; ${cores}, so a receiving process's own ~${
      Math.round(SOCKETS / RECEIVERS)
    } \`onmessage\` calls in a row are part of both arrival figures.`;
}

/** What the kernel floor rows are, for the notes under the table. */
function kernelFloorNote(eventBytes?: number): string {
  return `Kernel floor rows: bench/_kernel_floor.c, a C server with no HTTP, WebSocket handshake or runtime, writes one prebuilt ${FLOOR_FRAME_BYTES}-byte WebSocket text frame (a \`presence\` event's size${
    eventBytes ? `; the gateway's was ${eventBytes} bytes here` : ""
  }) to each of ${SOCKETS} raw loopback TCP connections held by bench/_broadcast_receiver.c, one \`write(2)\` per socket, from one thread, or from two (half the sockets each); its fan-out is that loop, and "connect → all have it" counts from the bench's command to the last arrival. On loopback the receiver's TCP stack runs inside the sender's \`write(2)\`, so this is the kernel's own price for ${SOCKETS} sockets on these cores: no server here can get the event to all of them sooner.`;
}

/** Bytes of the kernel floor's frame on the wire: the gateway's `presence` event to the held sockets is ~560. */
const FLOOR_FRAME_BYTES = 560;

/** "held" cell: the sockets the receivers hold, and why they stopped short, if they did. */
const heldCell = (receivers: Receivers) =>
  receivers.held + (receivers.failure ? ` (stopped: ${receivers.failure.slice(0, 60)})` : "");

/** The broadcast columns of a socket row: medians of `figures`. */
function broadcastCells(figures: BroadcastFigures[]): string[] {
  const middle = (pick: (f: BroadcastFigures) => number) => ms(median(figures.map(pick)));
  const events = figures.some((f) => f.events !== 1) ? ` (${figures.map((f) => f.events)} events)` : "";
  const lost = figures.reduce((n, f) => n + f.lost, 0);
  return [
    middle((f) => f.fanOut) + events,
    middle((f) => f.total) + (lost ? ` (${lost} sockets closed before it came)` : ""),
    middle((f) => f.spread),
    `${middle((f) => f.serverCpu.run)} (${middle((f) => f.serverCpu.wait)})`,
    `${middle((f) => f.receiversCpu.run)} (${middle((f) => f.receiversCpu.wait)})`,
  ];
}

/** One row's every broadcast, for the list under the table. */
const roundsLine = (name: string, figures: BroadcastFigures[]) =>
  `${name}: fan-out ${figures.map((f) => ms(f.fanOut)).join("/")}; all have it ${
    figures.map((f) => ms(f.total)).join("/")
  }; first → last ${figures.map((f) => ms(f.spread)).join("/")}`;

/** bench/_kernel_floor.c on its own port, read and driven over its stdin and stdout. */
interface KernelFloor {
  port: number;
  pid: number;
  command(line: string): Promise<{ sockets: number; fanOutMs: number; failed: number }>;
  stop(): Promise<void>;
}

async function startKernelFloor(c: CPrograms): Promise<KernelFloor> {
  const child = new Deno.Command(c.floor, { stdin: "piped", stdout: "piped", stderr: "inherit" }).spawn();
  const output = lines(child.stdout);
  const writer = child.stdin.getWriter();
  const port = Number((await output.next()).value);
  return {
    port,
    pid: child.pid,
    async command(line) {
      await writer.write(new TextEncoder().encode(`${line}\n`));
      return JSON.parse((await output.next()).value!);
    },
    async stop() {
      await writer.close();
      await child.status;
    },
  };
}

/** One broadcast of the kernel floor from `threads` writer threads, timed as the gateway's are. */
async function floorBroadcast(
  floor: KernelFloor,
  receivers: Receivers,
  threads: number,
): Promise<BroadcastFigures> {
  const marker = `bench-announcer-${++announcements}`;
  const { arrivals } = await receivers.arm(marker);
  const cpu = cpuWindow([floor.pid, ...receivers.pids]);
  const t0 = wallNow();
  const answer = floor.command(`broadcast ${threads} ${FLOOR_FRAME_BYTES} ${marker}`);
  const { first, last, lost, bytes } = await arrivals;
  const used = cpu();
  const { sockets, fanOutMs, failed } = await answer;
  if (failed || sockets !== receivers.held) {
    throw new Error(`kernel floor: ${failed} short writes, ${sockets} sockets for ${receivers.held} held`);
  }
  await new Promise((r) => setTimeout(r, 200));
  const [serverCpu, ...rest] = used;
  return {
    total: last - t0,
    spread: last - first,
    fanOut: fanOutMs,
    events: 1,
    serverCpu,
    receiversCpu: sumCpu(rest),
    lost,
    bytes,
  };
}

/**
 * The kernel floor's two rows: BROADCASTS broadcasts from one writer thread, then from two, to SOCKETS raw
 * connections held by the C receiver (columns that need a runtime's heap are —); returns their rounds.
 */
async function kernelFloorRows(c: CPrograms): Promise<string[]> {
  const floor = await startKernelFloor(c);
  const receivers = await startReceivers(floor.port, SOCKETS, RECEIVERS, TOKEN, cReceiver(c.receiver, true));
  const rounds: string[] = [];
  for (const threads of [1, 2]) {
    const figures: BroadcastFigures[] = [];
    for (let i = 0; i < BROADCASTS; i++) figures.push(await floorBroadcast(floor, receivers, threads));
    const name = `kernel floor: C, raw TCP writes (${threads} writer thread${threads === 1 ? "" : "s"})`;
    line([
      name,
      SOCKETS,
      heldCell(receivers),
      Math.round(receivers.connectMs),
      ...Array(6).fill("—"),
      ...broadcastCells(figures),
    ]);
    rounds.push(roundsLine(name, figures));
  }
  await receivers.close();
  await floor.stop();
  return rounds;
}

/**
 * N sockets held on each server, floor before gateway on each transport, each in a fresh process: the
 * turns above leave garbage in the first ones' heaps that would blur RSS per socket. The sockets are held
 * by RECEIVERS processes; each server makes BROADCASTS broadcasts (medians shown).
 */
async function socketRows(redis: RedisServer): Promise<void> {
  const c = await compileC();
  const receiver = receiverFor(c);
  console.log("");
  line([
    "server",
    "sockets asked",
    "held",
    "connect ms",
    "idle RSS MiB",
    "RSS MiB",
    "KiB per socket",
    "× bare",
    "KiB per socket after a full GC",
    "× bare",
    "one broadcast: server fan-out ms",
    "connect → all have it ms",
    "first → last ms",
    "server CPU ms (waiting for a CPU)",
    "receivers' CPU ms (waiting)",
  ]);
  line(["---", ...Array(14).fill("---:")]);
  const servers = socketServers(redis);
  const profiles: [string, ProfileSummary][] = [];
  const traced: [string, BroadcastFigures][] = [];
  const rounds: string[] = [];
  let bare = 0;
  let bareCollected = 0;
  const settle = () => new Promise((r) => setTimeout(r, 1_000));
  const collectedRss = async (server: Server) => {
    await collectGarbage(server.inspectPort!);
    await settle();
    return rssKiB(server.pid);
  };
  let clockErrorMs = 0;
  let eventBytes: number | undefined;
  for (const key of ROWS) {
    if (key === "kernel-floor") {
      if (c) rounds.push(...await kernelFloorRows(c));
      continue;
    }
    const [floor, start] = servers[key];
    // Every server listens for the inspector, which the GC column needs; only `--profile` samples CPU.
    const server = await start(freePort());
    await settle();
    const idle = rssKiB(server.pid);
    const idleCollected = await collectedRss(server);
    const receivers = await startReceivers(server.port, SOCKETS, RECEIVERS, TOKEN, receiver.program);
    clockErrorMs = Math.max(clockErrorMs, receivers.clockErrorMs);
    await settle();
    const rss = rssKiB(server.pid);
    const perSocket = (rss - idle) / receivers.held;
    const figures: BroadcastFigures[] = [];
    for (let i = 0; i < BROADCASTS; i++) figures.push(await broadcast(server, receivers, floor, false));
    // Profiled apart from the timed rounds: the profiler slows what it watches.
    if (values.profile) {
      profiles.push([server.name, (await broadcast(server, receivers, floor, true)).profile!]);
    }
    if (values.syscalls) traced.push([server.name, await broadcast(server, receivers, floor, false, true)]);
    const perSocketCollected = (await collectedRss(server) - idleCollected) / receivers.held;
    if (floor) [bare, bareCollected] = [perSocket, perSocketCollected];
    else eventBytes ??= figures[0].bytes;
    line([
      server.name,
      SOCKETS,
      heldCell(receivers),
      Math.round(receivers.connectMs),
      mib(idle),
      mib(rss),
      perSocket.toFixed(1),
      `${(perSocket / bare).toFixed(2)}×`,
      perSocketCollected.toFixed(1),
      `${(perSocketCollected / bareCollected).toFixed(2)}×`,
      ...broadcastCells(figures),
    ]);
    rounds.push(roundsLine(server.name, figures));
    await receivers.close();
    await server.stop();
  }
  console.log(
    `\n× bare: KiB per socket over the bare server on the same transport (the row above it). KiB per socket is read 1 s after the last connect (handshake garbage included, as a running server has it); after a full GC (forced over the inspector, after the broadcasts) it is what the sockets' live objects keep. Broadcast columns are medians of ${BROADCASTS} broadcasts. Server fan-out: from the event entering fan-out until the last socket's send returned, as the server reports it (the hardened Deno engine and the Node transport hand each frame to the kernel inside that loop; \`Deno.upgradeWebSocket\` only queues it for Deno's own writer). Connect → all have it: from the bench starting the announcing connect until the last held socket got the event; first → last: between the first and the last arrival. ${
      receiverNote(receiver.name, clockErrorMs)
    }${c ? ` ${kernelFloorNote(eventBytes)}` : ""}`,
  );
  console.log("\nper broadcast:\n");
  for (const round of rounds) console.log(`- ${round}`);
  if (traced.length) {
    console.log(
      "\nOne more broadcast per server under `perf trace` (its write syscalls; tracing slows every write many times over, so read the write span only beside the arrivals of the same broadcast):\n",
    );
    line([
      "server",
      "frame writes seen",
      "first → last write ms",
      "connect → all have it ms",
      "first → last arrival ms",
    ]);
    line(["---", "---:", "---:", "---:", "---:"]);
    for (const [name, f] of traced) {
      line([name, f.writes!.writes, ms(f.writes!.spanMs), ms(f.total), ms(f.spread)]);
    }
  }
  for (const [name, profile] of profiles) {
    console.log(`\nCPU profile of ${name} around one more broadcast: ${profile.busyMs.toFixed(1)} ms busy\n`);
    line(["self time in", "ms", "share of busy"]);
    line(["---", "---:", "---:"]);
    for (const entry of profile.top) {
      line([`\`${entry.name}\``, ms(entry.ms), `${(100 * entry.share).toFixed(1)} %`]);
    }
  }
}

const redis = await startRedisServer(freePort(), { appendfsync: "always" });
const running: Server[] = [];
async function shutdown() {
  for (const server of running.splice(0)) await server.stop().catch(() => {});
  await redis.stop();
}
try {
  if (values["sockets-only"]) {
    await socketRows(redis);
    await shutdown();
    Deno.exit(0);
  }
  const single = await startReplica("one process (in-process + JSONL stores)");
  const [a, b, c] = await Promise.all(["a", "b", "c"].map((name) => startReplica(name, redis)));
  running.push(single, a, b, c);

  console.log(
    `Replicas are \`openclaw gateway run\` processes; Redis ${
      new TextDecoder().decode(
        (await new Deno.Command("redis-server", { args: ["--version"] }).output()).stdout,
      )
        .match(/v=(\S+)/)?.[1]
    } on loopback with \`appendonly yes\`, \`appendfsync always\`. ${
      Math.ceil(TURNS / TURN_BLOCKS) * TURN_BLOCKS
    } turns per row (after ${
      Math.ceil(TURNS / 10)
    } warm-up), local scripted model; the rows take turns in ${TURN_BLOCKS} blocks (every other one in reverse order), so load that drifts during the run reaches each alike, and each block's p50 is compared with the first row's block of the same round.\n`,
  );

  line([
    "chat turns",
    "turn p50 ms",
    "turn p99 ms",
    `p50 over the first row: median of ${TURN_BLOCKS} blocks (range)`,
    "send → first event on the other client p50",
    "p99",
    "final on the other client after the sender's p50",
    "p99",
  ]);
  line(["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]);
  // The same two replicas' turns on a Redis that fsyncs once a second: what `appendfsync always` costs.
  const lazyRedis = await startRedisServer(freePort(), { appendfsync: "everysec" });
  const [d, e] = await Promise.all(["d", "e"].map((name) => startReplica(name, lazyRedis)));
  const rows = [
    ["one process, two clients (JSONL)", single, single],
    ["replica A → client on replica B (Redis, `appendfsync always`)", a, b],
    ["replica A → client on replica B (Redis, `appendfsync everysec`)", d, e],
  ] as const;
  const pairs = await Promise.all(rows.map(([, sender, watcher]) => turnPair(sender.port, watcher.port)));
  const over = await interleavedTurns(pairs);
  rows.forEach(([name], i) => {
    const f = pairs[i].figures;
    const sorted = [...over[i]].sort((x, y) => x - y);
    line([
      name,
      ms(percentile(f.turn, 0.5)),
      ms(percentile(f.turn, 0.99)),
      i === 0 ? "—" : `${signed(median(over[i]))} (${signed(sorted[0])} … ${signed(sorted.at(-1)!)})`,
      ms(percentile(f.firstElsewhere, 0.5)),
      ms(percentile(f.firstElsewhere, 0.99)),
      ms(percentile(f.skew, 0.5)),
      ms(percentile(f.skew, 0.99)),
    ]);
  });
  await closeAll(pairs.flatMap((pair) => [pair.sender, pair.watcher]));
  await Promise.all([d.stop(), e.stop()]);
  await lazyRedis.stop();

  console.log("");
  line([
    "stores",
    "handshake p50 ms",
    "p99 ms",
    "browser handshake p50 ms",
    "p99 ms",
    `handshakes/s (${HANDSHAKE_CONCURRENCY} in flight)`,
    "× in-process",
    "health/s (8×16 pipelined)",
    "× in-process",
  ]);
  line(["---", ...Array(8).fill("---:")]);
  const baseline = { handshakes: 0, health: 0 };
  for (const server of [single, a]) {
    const times = await handshakeLatency(server.port);
    const browserTimes = await handshakeLatency(server.port, true);
    const handshakes = await handshakeRate(server.port);
    const rps = await pipelinedHealth(server.port);
    baseline.handshakes ||= handshakes;
    baseline.health ||= rps;
    line([
      server === single ? "in-process" : "Redis",
      ms(percentile(times, 0.5)),
      ms(percentile(times, 0.99)),
      ms(percentile(browserTimes, 0.5)),
      ms(percentile(browserTimes, 0.99)),
      Math.round(handshakes),
      `${(handshakes / baseline.handshakes).toFixed(2)}×`,
      Math.round(rps),
      `${(rps / baseline.health).toFixed(2)}×`,
    ]);
  }
  console.log(
    "\nHandshake: a `webchat` client from loopback (a local tool: its address is exempt from the failed-auth counter); browser: the same with a same-origin `Origin` header, whose address's counter is checked on every connect, as for every remote or proxied client. Each connect is followed by its close before the next.",
  );

  console.log("");
  line([
    "per call (200, sequential)",
    "Redis round trips (socket reads)",
    "Redis commands (script bodies included)",
    "Redis CPU ms",
    "CPU ms of the replica called / of the others",
  ]);
  line(["---", "---:", "---:", "---:", "---:"]);
  for (
    const [name, server, others] of [["one process (JSONL)", single, []], ["replica A (Redis)", a, [
      b,
      c,
    ]]] as const
  ) {
    const replicas = [server, ...others];
    const ws = await handshake(server.port);
    let n = 0;
    const turn = await perCall(redis, replicas, 200, () => oneTurn(ws, `bench-count-${n++ % 5}`));
    await closeAll([ws]);
    const connect = await perCall(redis, replicas, 200, async () => {
      await closeAll([await handshake(server.port, connectFrame("webchat"))]);
    });
    for (
      const [what, figures] of [["`chat.send` turn (send → final)", turn], [
        "webchat connect + close",
        connect,
      ]] as const
    ) {
      const rest = figures.cpuMs.slice(1).reduce((sum, ms) => sum + ms, 0);
      const redisUsed = others.length > 0;
      line([
        `${what}, ${name}`,
        redisUsed ? figures.reads.toFixed(1) : "—",
        redisUsed ? figures.commands.toFixed(1) : "—",
        redisUsed ? figures.redisCpuMs.toFixed(3) : "—",
        `${figures.cpuMs[0].toFixed(2)} / ${others.length ? rest.toFixed(2) : "—"}`,
      ]);
    }
  }
  if (values["stores-only"]) {
    await shutdown();
    Deno.exit(0);
  }

  await socketRows(redis);

  console.log("");
  line([
    "setup",
    "sockets held",
    "connect ms",
    "sockets per replica (fds above idle)",
    "replica RSS MiB",
    "health/s while holding them (8×16 pipelined)",
  ]);
  line(["---", "---:", "---:", "---", "---", "---:"]);
  await new Promise((r) => setTimeout(r, 1_000));
  const idleDirect = await pipelinedHealth(a.port);
  const idleFds = new Map([a, b, c].map((r) => [r, openFds(r.pid)]));
  const sockets = (r: Server) => openFds(r.pid) - idleFds.get(r)!;
  const alone = await hold(a.port, PROXIED);
  line([
    "one replica, direct",
    alone.held.length,
    Math.round(alone.connectMs),
    String(sockets(a)),
    mib(rssKiB(a.pid)),
    `${Math.round(await pipelinedHealth(a.port))} (${Math.round(idleDirect)} before holding them)`,
  ]);
  await closeAll(alone.held);
  // The control for the HAProxy row: the same sockets, each replica's connected to it directly.
  const direct = await Promise.all([a, b, c].map((r) => hold(r.port, PROXIED)));
  line([
    "three replicas, direct (no balancer)",
    direct.reduce((n, d) => n + d.held.length, 0),
    "—",
    [a, b, c].map(sockets).join(" / "),
    [a, b, c].map((r) => mib(rssKiB(r.pid))).join(" / "),
    `${Math.round(await pipelinedHealth(a.port))} (to replica a)`,
  ]);
  await closeAll(direct.flatMap((d) => d.held));
  const haproxy = await startHaproxy([a, b, c], PROXIED + 100);
  try {
    await new Promise((r) => setTimeout(r, 1_000));
    const idleRps = await pipelinedHealth(haproxy.port);
    const proxied = await hold(haproxy.port, 3 * PROXIED);
    line([
      "three replicas behind HAProxy",
      proxied.held.length + (proxied.failure ? ` (stopped: ${proxied.failure.slice(0, 60)})` : ""),
      Math.round(proxied.connectMs),
      [a, b, c].map(sockets).join(" / "),
      [a, b, c].map((r) => mib(rssKiB(r.pid))).join(" / "),
      `${Math.round(await pipelinedHealth(haproxy.port))} (${Math.round(idleRps)} before holding them)`,
    ]);
    await closeAll(proxied.held);
  } finally {
    await haproxy.stop();
  }
} finally {
  await shutdown();
}
