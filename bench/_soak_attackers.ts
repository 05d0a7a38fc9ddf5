// The attackers of bench/soak.ts `--phase hostile`, on a worker thread: start on `{port, httpBase}`, stop on
// `{stop: true}`; they post their counts every second and `{done: true}` once every socket is closed.
import { Buffer } from "node:buffer";
import { type RawConn, rawConnect, rawConnectFrame, rawWs, waitUntil, write } from "./_attacks.ts";

/** Idle sockets the attackers keep open at any time (reopened as the gateway closes them). */
const IDLE_SOCKETS = 200;
const MiB = 1024 * 1024;
const counts = { halfBodies: 0, idle: 0, frames: 0, chunked: 0, wrongTokens: 0 };
let attacking = false;
const idle: RawConn[] = [];

/** Runs `step` again and again while attacking; failures are the attacker's problem. */
async function attacker(step: () => Promise<void>): Promise<void> {
  while (attacking) await step().catch(() => waitUntil(100));
}

function attackers(port: number, httpBase: string): Promise<void>[] {
  return [
    attacker(async () => {
      const c = await rawConnect(port);
      await write(c, 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"a":');
      await waitUntil(50);
      c.socket.destroy();
      counts.halfBodies++;
    }),
    attacker(async () => {
      for (let i = idle.length - 1; i >= 0; i--) if (idle[i].isClosed()) idle.splice(i, 1);
      while (idle.length < IDLE_SOCKETS && attacking) {
        idle.push(await rawConnect(port));
        counts.idle++;
      }
      await waitUntil(500);
    }),
    attacker(async () => {
      const ws = await rawWs(port);
      await Promise.race([ws.frame(0x1, new Uint8Array(8 * MiB).fill(0x61)), waitUntil(5000)]);
      ws.conn.socket.destroy();
      counts.frames++;
      await waitUntil(1000);
    }),
    attacker(async () => {
      const c = await rawConnect(port);
      await write(
        c,
        "POST /channels/webhook/inbound HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      const chunk = Buffer.concat([Buffer.from("100000\r\n"), Buffer.alloc(MiB, 0x61), Buffer.from("\r\n")]);
      for (let i = 0; i < 32 && !c.isClosed() && attacking; i++) {
        if (!await Promise.race([write(c, chunk).then(() => true), waitUntil(2000).then(() => false)])) break;
      }
      c.socket.destroy();
      counts.chunked++;
    }),
    attacker(async () => {
      const res = await fetch(`${httpBase}/v1/models`, { headers: { authorization: "Bearer wrong" } });
      await res.body?.cancel();
      const ws = await rawWs(port);
      await rawConnectFrame(ws, "wrong");
      await waitUntil(1000, () => ws.conn.isClosed());
      ws.conn.socket.destroy();
      counts.wrongTokens += 2;
      await waitUntil(100);
    }),
  ];
}

/** This worker's side of the channel to bench/_soak_hostile.ts. */
const parent = self as unknown as {
  postMessage(message: unknown): void;
  onmessage: (e: MessageEvent) => void;
};
let running: Promise<void>[] = [];
const reporter = setInterval(() => parent.postMessage({ ...counts }), 1000);
parent.onmessage = async (e: MessageEvent) => {
  if (e.data.stop) {
    attacking = false;
    await Promise.all(running);
    idle.forEach((c) => c.socket.destroy());
    clearInterval(reporter);
    parent.postMessage({ ...counts, done: true });
    return;
  }
  attacking = true;
  running = attackers(e.data.port, e.data.httpBase);
};
