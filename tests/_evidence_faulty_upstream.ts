// Misbehaving model providers on loopback: one HTTP server whose behaviour is picked by the path prefix
// (`/hang`, `/garbage`, `/garbage-stream`), a TCP listener that resets every connection, and a port with
// nothing listening.

/** Base URLs of each fault, ready for `models.providers.<id>.baseUrl`. */
export interface FaultyUpstreams {
  hang: string;
  garbage: string;
  garbageStream: string;
  reset: string;
  down: string;
  /** Requests the hanging route is still holding (0 once every caller gave up). */
  hanging(): number;
  close(): Promise<void>;
}

export function startFaultyUpstreams(): FaultyUpstreams {
  let holding = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const path = new URL(request.url).pathname;
    await request.text();
    if (path.startsWith("/hang/")) {
      holding++;
      await new Promise((resolve) => request.signal.addEventListener("abort", resolve));
      holding--;
      return new Response(null, { status: 499 });
    }
    if (path.startsWith("/garbage-stream/")) {
      return new Response("data: {not json\n\ndata: [DONE]\n\n", {
        headers: { "content-type": "text/event-stream" },
      });
    }
    return new Response("<html>502 from a proxy that ate the request</html>", {
      headers: { "content-type": "application/json" },
    });
  });
  const resetter = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of resetter) conn.close();
  })().catch(() => {});
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (dead.addr as Deno.NetAddr).port;
  dead.close();
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    hang: `${base}/hang/v1`,
    garbage: `${base}/garbage/v1`,
    garbageStream: `${base}/garbage-stream/v1`,
    reset: `http://127.0.0.1:${(resetter.addr as Deno.NetAddr).port}/v1`,
    down: `http://127.0.0.1:${deadPort}/v1`,
    hanging: () => holding,
    async close() {
      resetter.close();
      await server.shutdown();
    },
  };
}
