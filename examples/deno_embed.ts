/**
 * Embeds the gateway in a Deno app with a custom method, then calls it over a real socket.
 *
 *   deno run -A examples/deno_embed.ts
 */
import { createGateway } from "../mod.ts";
import { denoTransport } from "../deno.ts";

const token = crypto.randomUUID();
const gateway = createGateway({
  transport: denoTransport(),
  port: 0,
  config: { gateway: { auth: { mode: "token", token } } },
});
gateway.registerMethod("app.greet", "operator.read", ({ params }) => {
  const name = (params as { name?: string }).name ?? "world";
  return { greeting: `hello, ${name}` };
});
const address = await gateway.start();
console.log(`gateway on ws://127.0.0.1:${address!.port}`);

const ws = new WebSocket(`ws://127.0.0.1:${address!.port}`);
const done = Promise.withResolvers<void>();
ws.onmessage = (message) => {
  const frame = JSON.parse(message.data);
  if (frame.event === "connect.challenge") {
    ws.send(JSON.stringify({
      type: "req",
      id: "c",
      method: "connect",
      params: {
        minProtocol: 4,
        maxProtocol: 4,
        client: { id: "deno-embed-example", version: "1.0.0", platform: Deno.build.os, mode: "backend" },
        role: "operator",
        scopes: ["operator.read"],
        auth: { token },
      },
    }));
  } else if (frame.id === "c") {
    ws.send(JSON.stringify({ type: "req", id: "g", method: "app.greet", params: { name: "deno" } }));
  } else if (frame.id === "g") {
    console.log(frame.payload.greeting);
    done.resolve();
  }
};
await done.promise;
await gateway.stop({ reason: "example finished" });
