/**
 * Embeds the gateway in a Deno app with a custom method, then calls it over a real socket.
 *
 *   deno run -A examples/deno_embed.ts
 */
import { z } from "zod";
import { createGateway, defineMethod } from "../mod.ts";
import { denoTransport } from "../deno.ts";

const token = crypto.randomUUID();
const gateway = createGateway({
  transport: denoTransport(),
  port: 0,
  config: { gateway: { auth: { mode: "token", token } } },
});
// Params are checked against the schema before the handler runs; `params.name` is typed.
gateway.registerMethod(defineMethod({
  name: "app.greet",
  scope: "operator.read",
  params: z.strictObject({ name: z.string().optional() }),
  handler: ({ params }) => ({ greeting: `hello, ${params.name ?? "world"}` }),
}));
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
        // A device-less shared-token client keeps its scopes only as the local backend (see docs/security.md).
        client: { id: "gateway-client", version: "1.0.0", platform: Deno.build.os, mode: "backend" },
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
