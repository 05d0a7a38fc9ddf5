/**
 * The change feed notices a subscriber connection whose traffic is silently dropped (a NAT or firewall
 * forgetting an idle connection: no FIN, no RST), which node-redis keeps reporting ready: a replica must
 * then stop answering from its local views, and trust them again only after it hears the connection anew.
 */
import assert from "node:assert/strict";
import { ChangeFeed } from "../lib/state/redis/feed.ts";
import { testRedis } from "./_redis_server.ts";

const POLICY = { max: 1, windowMs: 60_000, lockoutMs: 300_000 };
const LIVENESS = { everyMs: 100, withinMs: 300 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A TCP relay to Redis that can hold back the subscriber connection's bytes both ways (as a silently
 * dropping path does: nothing arrives, nothing fails) and later deliver them, as TCP would once the path heals.
 */
function relay(target: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let blackhole = false;
  const conns: Deno.Conn[] = [];
  const flushes: (() => Promise<void>)[] = [];
  (async () => {
    for await (const inbound of listener) {
      const outbound = await Deno.connect({ hostname: "127.0.0.1", port: target });
      conns.push(inbound, outbound);
      const connection = { subscriber: false };
      const pump = async (from: Deno.Conn, to: Deno.Conn, up: boolean) => {
        const held: Uint8Array[] = [];
        const flush = async () => {
          while (held.length) await to.write(held.shift()!);
        };
        flushes.push(flush);
        const buf = new Uint8Array(65536);
        try {
          while (true) {
            const n = await from.read(buf);
            if (n === null) break;
            const chunk = buf.slice(0, n);
            if (up && new TextDecoder().decode(chunk).toUpperCase().includes("SUBSCRIBE")) {
              connection.subscriber = true;
            }
            if (connection.subscriber && blackhole) {
              held.push(chunk);
              continue;
            }
            await flush();
            await to.write(chunk);
          }
        } catch { /* closed */ }
      };
      pump(inbound, outbound, true);
      pump(outbound, inbound, false);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    drop() {
      blackhole = true;
    },
    async heal() {
      blackhole = false;
      await Promise.all(flushes.map((flush) => flush().catch(() => {})));
    },
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    },
  };
}

Deno.test("a lockout earned on one replica holds on a replica whose feed silently stopped, and its bus is not trusted", async () => {
  await using redis = await testRedis();
  const proxy = relay(Number(new URL(redis.url).port));
  const a = await redis.stores({ keyPrefix: "rh:", feedLiveness: LIVENESS });
  const b = await redis.stores({
    url: `redis://127.0.0.1:${proxy.port}`,
    keyPrefix: "rh:",
    feedLiveness: LIVENESS,
  });
  try {
    assert.equal((await b.rateLimits.peek("ip:10.0.0.66", POLICY)).retryAfterMs, 0);
    proxy.drop();
    const verdict = await a.rateLimits.hit("ip:10.0.0.66", POLICY);
    assert.ok(verdict.retryAfterMs > 0, "A locked the address out");
    await sleep(LIVENESS.withinMs + 2 * LIVENESS.everyMs);
    const onB = await b.rateLimits.peek("ip:10.0.0.66", POLICY);
    assert.ok(onB.retryAfterMs > 0, `B answers the locked-out address as clean: ${JSON.stringify(onB)}`);
    // The bus shares that connection: what B built from its events (the presence snapshot) is not trusted.
    assert.equal(b.bus.link?.(), undefined, "B's bus still claims to hear");
    await proxy.heal();
    const deadline = Date.now() + 2_000;
    while (b.bus.link?.() === undefined && Date.now() < deadline) await sleep(20);
    assert.equal(b.bus.link?.(), 1, "heard again: a new bus link, so the presence snapshot is read again");
  } finally {
    // B closes while its relay still carries its connections.
    await proxy.heal();
    await b.close();
    proxy.close();
  }
});

Deno.test("a silent feed unlinks within its window, and links anew (views told) once it is heard again", async () => {
  await using redis = await testRedis();
  const proxy = relay(Number(new URL(redis.url).port));
  const subscriber = await redis.client(`redis://127.0.0.1:${proxy.port}`);
  const feed = await ChangeFeed.open(subscriber, "f:changes", LIVENESS);
  let resubscribed = 0;
  feed.listen("x", { changed() {}, resubscribed: () => resubscribed++ });
  try {
    await sleep(3 * LIVENESS.everyMs);
    const first = feed.link();
    assert.equal(first, 0, "a feed that answers its pings keeps its link");
    proxy.drop();
    await sleep(LIVENESS.withinMs + 2 * LIVENESS.everyMs);
    assert.equal(feed.link(), undefined, "no answer within the window: the link is untrusted");
    assert.equal(subscriber.isReady, true, "node-redis alone would not have noticed");
    await proxy.heal();
    const deadline = Date.now() + 2_000;
    while (feed.link() === undefined && Date.now() < deadline) await sleep(20);
    assert.equal(feed.link(), 1, "heard again: a new link, so views reload what they may have missed");
    assert.equal(resubscribed, 1);
  } finally {
    await proxy.heal();
    await feed.close();
    await subscriber.close();
    proxy.close();
  }
});
