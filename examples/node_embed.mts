/**
 * Embeds the gateway in a Node app (node:http + ws). Runs under Node 20+ (through a TypeScript loader
 * such as tsx) and under Deno:
 *
 *   npx tsx examples/node_embed.mts
 *   deno run -A examples/node_embed.mts
 */
import WebSocket from "ws";
import { createGateway } from "../mod.ts";
import { nodeTransport } from "../node.ts";

const token = "example-token-" + Math.random().toString(36).slice(2);
const gateway = createGateway({
  transport: nodeTransport(),
  port: 0,
  config: { gateway: { auth: { mode: "token", token } } },
});
const address = await gateway.start();
console.log(`gateway on ws://127.0.0.1:${address!.port}`);

const health = await fetch(`http://127.0.0.1:${address!.port}/health`);
console.log("http /health", health.status, await health.text());

const ws = new WebSocket(`ws://127.0.0.1:${address!.port}`);
await new Promise<void>((resolve) => {
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
          // A device-less shared-token client keeps its scopes only as the local backend (see docs/security.md).
          client: { id: "gateway-client", version: "1.0.0", platform: "node", mode: "backend" },
          role: "operator",
          scopes: ["operator.read"],
          auth: { token },
        },
      }));
    } else if (frame.id === "c") {
      ws.send(JSON.stringify({ type: "req", id: "h", method: "health", params: {} }));
    } else if (frame.id === "h") {
      console.log("ws health ok:", frame.payload.ok);
      resolve();
    }
  });
});
const closed = new Promise((resolve) => ws.on("close", (code) => resolve(code)));
await gateway.stop({ reason: "example finished" });
console.log("socket closed with", await closed);
