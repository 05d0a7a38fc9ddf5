// Run under Node (through tsx) by tests/redis_under_node_test.ts: the Redis stores on the Redis at argv[2],
// two bundles standing for two replicas, and a gateway on the Node transport over one of them. Prints one
// `RESULT <json>` line; a failure exits non-zero.
import WebSocket from "ws";
import { createGateway } from "../mod.ts";
import { nodeTransport } from "../node.ts";
import { redisStores } from "../stores/redis.ts";

const url = process.argv[2];
const keyPrefix = `node-${process.pid}:`;
const onError = (error: unknown) => console.error("redis error", error);
const a = await redisStores({ url, keyPrefix, onError });
const b = await redisStores({ url, keyPrefix, onError });

const ref = { agentId: "main", sessionId: "node-session" };
const appended = await a.transcripts.append(ref, [{ id: "l1", ts: 1, role: "user", content: "from node" }]);
const readBack = (await b.transcripts.read(ref)).map((line) => [line.seq, line.content]);

const heard = new Promise<unknown>((resolve) => {
  const off = b.bus.subscribe((event) => event.event === "node.ping" && (off(), resolve(event.payload)));
});
a.bus.publish({ event: "node.ping", payload: { from: "a" }, internal: true });
const busPayload = await Promise.race([
  heard,
  new Promise((_, reject) => setTimeout(() => reject(new Error("bus: nothing heard in 5 s")), 5_000)),
]);

const token = "node-redis-token-0123456789";
const gateway = createGateway({
  transport: nodeTransport(),
  hostname: "127.0.0.1",
  port: 0,
  stores: a,
  config: { gateway: { auth: { mode: "token", token } } },
});
const port = (await gateway.start())!.port;
const health = await fetch(`http://127.0.0.1:${port}/health`);
const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  ws.on("error", reject);
  ws.on("message", (data) => {
    const frame = JSON.parse(String(data));
    if (frame.event === "connect.challenge") {
      ws.send(JSON.stringify({
        type: "req",
        id: "c",
        method: "connect",
        params: {
          minProtocol: 4,
          maxProtocol: 4,
          client: { id: "gateway-client", version: "1.0.0", platform: "node", mode: "backend" },
          role: "operator",
          scopes: ["operator.read"],
          auth: { token },
        },
      }));
    } else if (frame.id === "c") {
      ws.close();
      resolve(frame);
    }
  });
});
// The gateway's presence row went to Redis: the other bundle lists it.
const presenceModes = (await b.presence.list(Date.now())).map((row) => row.mode);
await gateway.stop();
await a.close();
await b.close();

console.log(`RESULT ${
  JSON.stringify({
    node: process.version,
    appended: appended.map((line) => line.seq),
    readBack,
    busPayload,
    health: health.status,
    helloOk: hello.ok,
    presenceModes,
  })
}`);
