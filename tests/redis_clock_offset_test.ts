// A replica estimates the Redis server's clock (lib/state/redis/server-clock.ts) to give a guarded publish
// a deadline on that clock (bus.ts, `publishIfHeld`). The estimate must be unknown from the moment the
// connection is lost until the next connection's server was read (a failover may bring a server whose
// clock is behind), must not be left low by a slow answer (every guarded publish would then be refused
// until the next refresh), and must never be ahead of the server's clock. A real server's clock cannot be
// moved, so offsets are measured against a direct reading of it.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { PUBLISH_WITHIN_MS, RedisEventBus } from "../lib/state/redis/bus.ts";
import { RedisConnection } from "../lib/state/redis/connection.ts";
import { CLOCK_ROUND_TRIP_LIMIT_MS, ServerClock } from "../lib/state/redis/server-clock.ts";
import { parseCommands, type SentChunk } from "./_redis_relay.ts";
import { redisTest, startRedisServer } from "./_redis_server.ts";
import { freePort } from "./_runner_process.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `check()` holds, polling; fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  for (const end = performance.now() + ms; !check();) {
    if (performance.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/**
 * A relay in front of a Redis that a test can cut (closing every link and refusing new ones), point at
 * another server (a failover), and slow down (holding the answer to the next `TIME` sent). Logs every
 * chunk clients send, as tests/_redis_relay.ts does.
 */
function switchingRelay(target: string) {
  const port = freePort();
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const log: SentChunk[] = [];
  const links = new Set<Deno.Conn>();
  let upstream: string | undefined = target;
  let holdNextTime = 0;
  let next = 0;
  const close = (conn: Deno.Conn) => {
    links.delete(conn);
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  const pump = async (
    from: Deno.Conn,
    to: Deno.Conn,
    onChunk: (chunk: Uint8Array) => Promise<void> | void,
  ) => {
    try {
      for await (const chunk of from.readable.values({ preventCancel: true })) {
        await onChunk(chunk);
        await to.write(chunk);
      }
    } catch { /* closed */ }
    close(from);
    close(to);
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      if (!upstream) {
        close(conn);
        continue;
      }
      const id = next++;
      const server = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(upstream).port) });
      links.add(conn).add(server);
      let hold = 0;
      pump(conn, server, (chunk) => {
        const sent = { conn: id, ...parseCommands(chunk) };
        log.push(sent);
        // Taken before the command is forwarded, so before its answer can come back.
        if (holdNextTime && sent.commands.includes("TIME")) [hold, holdNextTime] = [holdNextTime, 0];
      });
      pump(server, conn, async () => {
        if (hold) await sleep(hold);
        hold = 0;
      });
    }
  })().catch(() => {});
  return {
    url: `redis://127.0.0.1:${port}`,
    log,
    /** The commands clients sent from log entry `from` on. */
    commands: (from = 0) => log.slice(from).flatMap((chunk) => chunk.commands),
    cut() {
      upstream = undefined;
      for (const conn of [...links]) close(conn);
    },
    resume(target: string) {
      upstream = target;
    },
    holdNextTime(ms: number) {
      holdNextTime = ms;
    },
    async close() {
      this.cut();
      listener.close();
      await accepting;
    },
  };
}

/** Where the true offset of the server's clock from `performance.now()` lies, from one direct reading. */
async function offsetBounds(direct: ReturnType<typeof createClient>): Promise<[number, number]> {
  const sent = performance.now();
  const [seconds, micros] = (await direct.sendCommand(["TIME"])) as [string, string];
  const answered = performance.now();
  const server = Number(seconds) * 1000 + Number(micros) / 1000;
  return [server - answered, server - sent];
}

const FINAL = { event: "chat", payload: { state: "final" }, sessionKey: "s" };

redisTest(
  "from the moment the connection is lost, the server's clock is unknown until a reading on the next one",
  async (redis) => {
    const failover = await startRedisServer();
    const relay = switchingRelay(redis.url);
    // The offline queue on (node-redis's default): what is sent while away runs on the next server.
    const client = createClient({ url: relay.url, socket: { reconnectStrategy: () => 20 } });
    client.on("error", () => {});
    try {
      await client.connect();
      const connection = new RedisConnection(client, "clock:");
      await connection.learnClock();
      assert.equal(typeof connection.scriptNow(), "number");
      const bus = await RedisEventBus.open(
        connection.client,
        await redis.client(),
        "clock:bus",
        () => {},
        connection,
      );
      relay.cut();
      await until(() => !client.isReady, "the client finds its connection lost");
      assert.equal(connection.scriptNow(), undefined, "no estimate from the server that was lost");
      const cutAt = relay.log.length;
      const published = bus.publishIfHeld([FINAL], { lease: "session:s", owner: "owner/1" });
      assert.equal(
        await Promise.race([published, sleep(300).then(() => "queued")]),
        false,
        "a guarded publish meanwhile is refused at once, not queued with the old server's deadline",
      );
      relay.resume(failover.url);
      await until(() => client.isReady, "the client is back, on the next server");
      await until(() => connection.scriptNow() !== undefined, "the next server's clock is read");
      const sent = relay.commands(cutAt);
      assert.ok(sent.includes("TIME"), `read on the new connection: ${sent}`);
      assert.ok(
        !sent.some((c) => c.startsWith("EVAL")),
        `no guarded publish reached the next server: ${sent}`,
      );
      const direct = createClient({ url: failover.url });
      await direct.connect();
      const [low, high] = await offsetBounds(direct);
      direct.destroy();
      const estimate = connection.scriptNow()! - performance.now();
      assert.ok(
        estimate <= high && estimate >= low - CLOCK_ROUND_TRIP_LIMIT_MS,
        `${estimate} in [${low}, ${high}]`,
      );
      await bus.close();
    } finally {
      if (client.isOpen) client.destroy();
      await relay.close();
      await failover.stop();
    }
  },
);

redisTest(
  "a slow TIME answer is read again: the estimate errs low by a fast round trip at most, and is never ahead",
  async (redis) => {
    const relay = switchingRelay(redis.url);
    const client = createClient({ url: relay.url });
    try {
      await client.connect();
      const connection = new RedisConnection(client, "clock:");
      relay.holdNextTime(600);
      await connection.learnClock();
      const estimate = connection.scriptNow()! - performance.now();
      const [low, high] = await offsetBounds(await redis.client());
      assert.ok(estimate <= high, `never ahead: ${estimate} > ${high}`);
      assert.ok(
        estimate >= low - CLOCK_ROUND_TRIP_LIMIT_MS,
        `errs low by ${low - estimate} ms, more than ${CLOCK_ROUND_TRIP_LIMIT_MS}`,
      );
      assert.ok(relay.commands().filter((c) => c === "TIME").length >= 2, "the slow reading was read again");
    } finally {
      if (client.isOpen) client.destroy();
      await relay.close();
    }
  },
);

redisTest(
  "a guarded publish is not refused for a slow first reading of the server's clock",
  async (redis) => {
    const relay = switchingRelay(redis.url);
    try {
      // Late by more than a guarded publish's window: taken as it came, every deadline would be past.
      relay.holdNextTime(PUBLISH_WITHIN_MS + 200);
      const stores = await redis.stores({ url: relay.url, keyPrefix: "slow:" });
      assert.ok(await stores.leases.acquire("session:s", "owner/1", 60_000));
      assert.equal(await stores.bus.publishIfHeld!([FINAL], { lease: "session:s", owner: "owner/1" }), true);
      await stores.close();
    } finally {
      await relay.close();
    }
  },
);

redisTest(
  "a guarded publish that arrives past its deadline is refused, and the server's clock is read again at once",
  async (redis) => {
    const relay = switchingRelay(redis.url);
    try {
      const stores = await redis.stores({ url: relay.url, keyPrefix: "late:" });
      assert.ok(await stores.leases.acquire("session:s", "owner/1", 60_000));
      const times = () => relay.commands().filter((c) => c === "TIME").length;
      const before = times();
      // The server holds the script past its deadline (but within the reply bound): the lease still holds.
      await (await redis.client()).sendCommand(["CLIENT", "PAUSE", String(PUBLISH_WITHIN_MS + 300), "ALL"]);
      assert.equal(await stores.bus.publishIfHeld!([FINAL], { lease: "session:s", owner: "owner/1" }), false);
      await until(() => times() > before, "the clock is read again", 1_000);
      await stores.close();
    } finally {
      await relay.close();
    }
  },
);

/** A `TIME` answer for a server whose clock is this process's `performance.now()` plus `offset`. */
function timeAnswer(offset: number): [string, string] {
  const ms = performance.now() + offset;
  return [String(Math.floor(ms / 1000)), String(Math.floor((ms % 1000) * 1000))];
}

Deno.test("while answers stay slow, rounds of readings are spaced out, never one per call", async () => {
  let reads = 0;
  const clock = new ServerClock(async () => {
    reads++;
    await sleep(CLOCK_ROUND_TRIP_LIMIT_MS + 20);
    return timeAnswer(5_000);
  }, () => true);
  for (const end = performance.now() + 2_500; performance.now() < end;) {
    clock.now();
    await sleep(5);
  }
  // A round of three by itself, another after a second, the next not before two more.
  assert.ok(reads >= 3 && reads <= 6, `${reads} readings`);
  const estimate = clock.now()! - performance.now();
  assert.ok(estimate <= 5_000 && estimate >= 5_000 - 2 * CLOCK_ROUND_TRIP_LIMIT_MS, String(estimate));
});

Deno.test("an answer read across a reconnection is not taken for the next server's clock", async () => {
  const answers: ((answer: [string, string]) => void)[] = [];
  const clock = new ServerClock(() => new Promise((resolve) => answers.push(resolve)), () => true);
  const first = clock.learn();
  clock.forget();
  answers[0](timeAnswer(10_000));
  await first;
  assert.equal(clock.now(), undefined, "the lost server's answer is dropped");
  answers[1](timeAnswer(20_000));
  await clock.learn();
  const estimate = clock.now()! - performance.now();
  assert.ok(estimate <= 20_000 && estimate > 19_900, String(estimate));
});

Deno.test("no estimate and no reading while the connection is down", () => {
  let reads = 0;
  const clock = new ServerClock(() => {
    reads++;
    return Promise.resolve(timeAnswer(0));
  }, () => false);
  assert.equal(clock.now(), undefined);
  assert.equal(reads, 0);
});
