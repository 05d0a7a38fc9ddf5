// Run under Node by bench/node_fan_out.ts (`node --import tsx bench/_node_fan_out.ts [sockets] [rounds]`):
// N `ws` sockets held by a child process, then rounds of one event to all N, each way in turn (interleaved;
// medians), timed on the wall and in this process's user and system CPU.
//
// - `ws.send`: the bare server's way (Sender framing, a header buffer, cork, writev of header + string);
// - prepared, one seq: the transport's `sendPrepared` when the sockets share a seq (one buffer for all);
// - prepared, own seq: the same with a seq per socket (a frame built per socket);
// - socket.write: one prebuilt buffer written to each net.Socket (the stream floor);
// - writeSync(fd): the same bytes as a bare write(2) per socket (the syscall floor).
import { fork } from "node:child_process";
import { writeSync } from "node:fs";
import { createServer } from "node:http";
import process from "node:process";
import type { Socket } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { preparedEventFrame } from "../lib/protocol/frames.ts";
import { preparedFrameBytes, sendPreparedFrame } from "../lib/transports/node/prepared-frames.ts";

const SOCKETS = Number(process.argv[2] ?? 10_000);
const ROUNDS = Number(process.argv[3] ?? 9);

if (process.argv[2] === "clients") {
  // The child: opens the sockets and reads whatever comes.
  const [port, count] = [process.argv[3], Number(process.argv[4])];
  let open = 0;
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    ws.on("open", () => ++open === count && process.send!("open"));
    ws.on("message", () => {});
    ws.on("error", (error) => console.error(String(error)));
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
  }
} else {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  const sockets: WebSocket[] = [];
  wss.on("connection", (ws: WebSocket) => sockets.push(ws));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const clients = fork(new URL(import.meta.url).pathname, ["clients", String(port), String(SOCKETS)], {
    execArgv: ["--import", "tsx"],
  });
  await new Promise((r) => clients.once("message", r));
  while (sockets.length < SOCKETS) await new Promise((r) => setTimeout(r, 10));

  const frame = preparedEventFrame("presence", { presence: [] }, { presence: 3, health: 9 });
  const shared = preparedFrameBytes(frame, 1);
  const netSocket = (ws: WebSocket) => (ws as unknown as { _socket: Socket })._socket;
  const fd = (ws: WebSocket) => (netSocket(ws) as unknown as { _handle: { fd: number } })._handle.fd;
  const ways: Record<string, (seq: number) => void> = {
    "ws.send": (seq) => sockets.forEach((ws) => ws.send(frame(seq))),
    "prepared, one seq": (seq) => sockets.forEach((ws) => sendPreparedFrame(ws, frame, seq)),
    "prepared, own seq": (seq) => sockets.forEach((ws, i) => sendPreparedFrame(ws, frame, seq * SOCKETS + i)),
    "socket.write": () => sockets.forEach((ws) => netSocket(ws).write(shared)),
    "writeSync(fd)": () => sockets.forEach((ws) => writeSync(fd(ws), shared)),
  };
  const names = Object.keys(ways);
  const samples = new Map(names.map((name) => [name, [] as number[][]]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length];
      const cpu = process.cpuUsage();
      const started = performance.now();
      ways[name](round + 1);
      const wall = performance.now() - started;
      const { user, system } = process.cpuUsage(cpu);
      samples.get(name)!.push([wall, user / 1000, system / 1000]);
      // The peers read everything before the next way starts.
      await new Promise((r) => setTimeout(r, 400));
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];
  console.log(`${SOCKETS} sockets, ${ROUNDS} rounds, load average ${(await import("node:os")).loadavg()[0]}`);
  console.log("| way | wall ms | user CPU ms | system CPU ms | µs per socket (wall) |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const [name, rows] of samples) {
    const [wall, user, system] = [0, 1, 2].map((k) => median(rows.map((row) => row[k])));
    const cells = [wall, user, system].map((n) => n.toFixed(1));
    console.log(`| ${name} | ${cells.join(" | ")} | ${(wall * 1000 / SOCKETS).toFixed(2)} |`);
  }
  clients.kill();
  server.closeAllConnections();
  process.exit(0);
}
