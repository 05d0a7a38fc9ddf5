/**
 * Drives a gateway from a test with the in-memory transport: no port, the real protocol path.
 *
 *   deno test -A examples/in_memory_test.ts
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { createGateway, defineMethod, openMemorySocket } from "../mod.ts";

Deno.test("an app method answers over the in-memory transport", async () => {
  const gateway = createGateway({ config: { gateway: { auth: { token: "t" } } } });
  gateway.registerMethod(defineMethod({
    name: "app.add",
    scope: "operator.write",
    params: z.strictObject({ a: z.number(), b: z.number() }),
    handler: ({ params }) => ({ sum: params.a + params.b }),
  }));
  await gateway.start();

  const socket = openMemorySocket(gateway);
  await socket.next(); // connect.challenge
  socket.send({
    type: "req",
    id: "c",
    method: "connect",
    params: {
      minProtocol: 4,
      maxProtocol: 4,
      // A device-less shared-token client keeps its scopes only as the local backend (see docs/security.md).
      client: { id: "gateway-client", mode: "backend" },
      scopes: ["operator.write"],
      auth: { token: "t" },
    },
  });
  assert.equal((await socket.waitFor((f) => f.id === "c")).ok, true);
  socket.send({ type: "req", id: "1", method: "app.add", params: { a: 2, b: 3 } });
  const res = await socket.waitFor((f) => f.id === "1");
  assert.deepEqual(res.payload, { sum: 5 });
  socket.send({ type: "req", id: "2", method: "app.add", params: { a: 2 } });
  const refused = await socket.waitFor((f) => f.id === "2");
  assert.equal(
    (refused.error as { message: string }).message,
    "invalid app.add params: must have required property 'b'",
  );

  await gateway.stop();
  assert.equal((await socket.closed).code, 1012);
});
