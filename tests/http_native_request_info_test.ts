// The native engine hands the gateway each request's peer address through a shared class getter, never
// through an object literal with its own getter: V8 gives every such literal a map of its own in old
// space, which kept its request (headers, URL, response) alive across young-generation collections, ~1 KB
// promoted per request under load. The address is still read only when asked for, and still right.
import assert from "node:assert/strict";
import { listenNative } from "../lib/transports/deno/native.ts";
import type { GatewayServerHandler } from "../lib/ws/wire.ts";

Deno.test("native engine: RequestInfo shares its shape across requests and reads the peer address on demand", async () => {
  const seen: { remoteAddress: string }[] = [];
  const handler = {
    fetch(_request: Request, info: { remoteAddress: string }) {
      seen.push(info);
      // Deno answers "Request closed" once the response is out, so the address is read while answering.
      return new Response(info.remoteAddress === "127.0.0.1" ? "ok" : info.remoteAddress);
    },
    admitUpgrade: () => new Response("no", { status: 400 }),
    acceptSocket: () => {
      throw new Error("no sockets here");
    },
  } as unknown as GatewayServerHandler;
  const server = await listenNative(handler, { hostname: "127.0.0.1", port: 0 }, undefined, {
    drainTimeoutMs: 1_000,
    closeGraceMs: 100,
  });
  try {
    for (const method of ["GET", "POST"]) {
      const response = await fetch(`http://127.0.0.1:${server.port}/x`, {
        method,
        body: method === "POST" ? "{}" : undefined,
      });
      assert.equal(await response.text(), "ok");
    }
    assert.equal(seen.length, 2);
    for (const info of seen) {
      assert.equal(Object.getOwnPropertyDescriptor(info, "remoteAddress"), undefined);
    }
    assert.equal(Object.getPrototypeOf(seen[0]), Object.getPrototypeOf(seen[1]));
  } finally {
    await server.close();
  }
});
