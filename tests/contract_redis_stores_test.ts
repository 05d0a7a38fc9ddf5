// Every store contract suite against the Redis implementations, on a redis-server this file starts (and
// stops) itself. Each store gets a key prefix of its own, so tests never see each other's keys, and two
// bundles over one prefix stand for two replicas over one Redis.
import assert from "node:assert/strict";
import { createClient } from "redis";
import type { BusEvent } from "../lib/bus/types.ts";
import { type RedisStores, redisStores } from "../stores/redis.ts";
import { busContract, guardedPublishContract } from "./contract/_bus.ts";
import type { TestClock } from "./contract/_clock.ts";
import { devicesContract } from "./contract/_devices.ts";
import { execApprovalsContract } from "./contract/_exec_approvals.ts";
import { jsonDocsContract } from "./contract/_json_docs.ts";
import { idempotencyCapContract, idempotencyContract } from "./contract/_idempotency.ts";
import { leasesContract } from "./contract/_leases.ts";
import { nodesContract } from "./contract/_nodes.ts";
import { presenceContract } from "./contract/_presence.ts";
import { rateLimitContract } from "./contract/_rate_limit.ts";
import { replicasContract } from "./contract/_replicas.ts";
import { runsContract } from "./contract/_runs.ts";
import { sessionsContract } from "./contract/_sessions.ts";
import { stateVersionContract } from "./contract/_state_version.ts";
import { appendIfHeldContract, transcriptsContract } from "./contract/_transcripts.ts";
import { systemEventsContract } from "./contract/_system_events.ts";
import { turnQueueContract, turnQueueMoveContract } from "./contract/_turn_queue.ts";
import { peersContract } from "./contract/_peers.ts";
import { responseSessionsContract } from "./contract/_response_sessions.ts";
import { REDIS_SERVER, type RedisServer, startRedisServer } from "./_redis_server.ts";
import { freePort } from "./_runner_process.ts";
import { client, historyText, startGateway, TOKEN } from "./_helpers.ts";
import { agentsModule } from "../lib/agents/mod.ts";
import type { Frame } from "../lib/transports/memory.ts";
import { RedisConnection } from "../lib/state/redis/connection.ts";
import { RedisIdempotencyStore } from "../lib/state/redis/idempotency.ts";

// CI installs redis-server (.ci/run): there a missing one fails instead of skipping.
if (!REDIS_SERVER && !Deno.env.get("CI")) {
  console.warn(
    "skipping the Redis store contracts: redis-server is not installed (apt-get install redis-server)",
  );
  Deno.test({ name: "Redis store contracts (redis-server not installed)", ignore: true, fn() {} });
} else {
  const server: RedisServer = await startRedisServer();
  Deno.test.afterAll(() => server.stop());

  // Every bundle a test opened is closed after it, so no connection outlives its test.
  const open: RedisStores[] = [];
  Deno.test.afterEach(async () => {
    for (const stores of open.splice(0)) await stores.close();
  });
  let prefixes = 0;
  const bundle = async (
    clock?: TestClock,
    keyPrefix = `test${++prefixes}:`,
    onError?: (error: unknown) => void,
  ) => {
    const stores = await redisStores({ url: server.url, keyPrefix, now: clock?.now, onError });
    open.push(stores);
    return stores;
  };
  const onClock = (now: () => number) => bundle({ now, advance: () => {} });

  presenceContract("redis", async () => (await bundle()).presence);
  devicesContract("redis", async () => (await bundle()).devices);
  execApprovalsContract("redis", async (clock) => (await bundle(clock)).execApprovals);
  idempotencyContract("redis", async (clock) => (await bundle(clock)).idempotency, { claimsLapse: true });
  // A store with a small cap, on a connection of its own (the bundle's uses the default cap).
  const rawClients: ReturnType<typeof createClient>[] = [];
  Deno.test.afterEach(async () => {
    for (const raw of rawClients.splice(0)) await raw.close();
  });
  idempotencyCapContract("redis", async (clock, maxEntries) => {
    const raw = createClient({ url: server.url });
    rawClients.push(raw);
    await raw.connect();
    const connection = new RedisConnection(raw, `test${++prefixes}:`, clock.now);
    await connection.load(RedisIdempotencyStore.scripts);
    return new RedisIdempotencyStore(connection, { maxEntries });
  });
  rateLimitContract("redis", async (clock) => (await bundle(clock)).rateLimits);
  stateVersionContract("redis", async () => (await bundle()).stateVersions);
  sessionsContract("redis", async () => (await bundle()).sessions);
  transcriptsContract("redis", async () => (await bundle()).transcripts);
  appendIfHeldContract("redis", (clock) => bundle(clock));
  runsContract("redis", async (now) => (await onClock(now)).runs);
  nodesContract("redis", async (clock) => (await bundle(clock)).nodes);
  systemEventsContract("redis", async () => (await bundle()).systemEvents);
  turnQueueContract("redis", async () => (await bundle()).turnQueue);
  turnQueueMoveContract("redis", (clock) => bundle(clock));
  responseSessionsContract("redis", async () => (await bundle()).responseSessions);
  peersContract("redis", async (clock) => (await bundle(clock)).peers);
  leasesContract("redis", async (now) => (await onClock(now)).leases);
  // The bus contract has a listener throw on purpose: what the bus reports is expected, not printed.
  busContract("redis", async () => (await bundle(undefined, undefined, () => {})).bus);
  guardedPublishContract("redis", () => bundle());

  jsonDocsContract("redis", async () => {
    const keyPrefix = `test${++prefixes}:`;
    return [(await bundle(undefined, keyPrefix)).docs, (await bundle(undefined, keyPrefix)).docs];
  });

  // Two bundles over one prefix: two replicas over one Redis.
  replicasContract("redisStores()", async () => {
    const keyPrefix = `test${++prefixes}:`;
    return [await bundle(undefined, keyPrefix), await bundle(undefined, keyPrefix)];
  });

  /** Two bundles over one fresh prefix: two replicas over one Redis. */
  const pair = async () => {
    const keyPrefix = `test${++prefixes}:`;
    return [await bundle(undefined, keyPrefix), await bundle(undefined, keyPrefix)];
  };

  Deno.test("redis idempotency: a duplicate on another replica waits for the first outcome", async () => {
    const [a, b] = await pair();
    let runs = 0;
    const work = (value: unknown) => async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 60));
      return value;
    };
    const first = a.idempotency.run("ns", "k", "fp", work({ from: "a" }));
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(await b.idempotency.run("ns", "k", "fp", work({ from: "b" })), { from: "a" });
    assert.deepEqual(await first, { from: "a" });
    assert.equal(runs, 1);
    await assert.rejects(b.idempotency.run("ns", "k", "other", work(0)), /already used/);
  });

  Deno.test("redis idempotency: when the first attempt fails, the waiting replica runs the work", async () => {
    const [a, b] = await pair();
    const failing = a.idempotency.run("ns", "k", "fp", async () => {
      await new Promise((r) => setTimeout(r, 40));
      throw new Error("upstream down");
    });
    await new Promise((r) => setTimeout(r, 10));
    const retried = b.idempotency.run("ns", "k", "fp", () => Promise.resolve("second try"));
    await assert.rejects(failing, /upstream down/);
    assert.equal(await retried, "second try");
    assert.equal(await a.idempotency.run("ns", "k", "fp", () => Promise.resolve("third")), "second try");
  });

  Deno.test("redis bus: an event for connection ids reaches only the replica that published it", async () => {
    const [a, b] = await pair();
    const onA: BusEvent[] = [];
    const onB: BusEvent[] = [];
    a.bus.subscribe((e) => onA.push(e));
    b.bus.subscribe((e) => onB.push(e));
    a.bus.publish({ event: "direct", payload: {}, connIds: ["c1"] });
    a.bus.publish({ event: "everyone", payload: {} });
    const deadline = Date.now() + 2_000;
    while (onA.length < 2 || onB.length < 1) {
      if (Date.now() > deadline) throw new Error("timed out waiting for the events");
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(onA.map((e) => e.event), ["direct", "everyone"], "in publish order on the publisher");
    assert.deepEqual(onB.map((e) => e.event), ["everyone"]);
  });

  Deno.test("redis bus: a local event, or one for connection ids, is not sent to other replicas at all", async () => {
    const [a, b] = await pair();
    const onA: BusEvent[] = [];
    const onB: BusEvent[] = [];
    a.bus.subscribe((e) => onA.push(e));
    b.bus.subscribe((e) => onB.push(e));
    // A raw subscriber to every channel of the prefix counts what Redis sends out.
    const raw = createClient({ url: server.url });
    rawClients.push(raw);
    await raw.connect();
    const seen: string[] = [];
    await raw.pSubscribe(`test${prefixes}:bus*`, (_, channel) => seen.push(channel));
    a.bus.publish({ event: "config.changed", payload: {}, local: true });
    a.bus.publish({ event: "direct", payload: {}, connIds: ["c1"] });
    a.bus.publish({ event: "everyone", payload: {} });
    const deadline = Date.now() + 2_000;
    while (onA.length < 3 || onB.length < 1 || seen.length < 3) {
      if (Date.now() > deadline) throw new Error("timed out waiting for the events");
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(onA.map((e) => e.event), ["config.changed", "direct", "everyone"], "in publish order");
    assert.deepEqual(onB.map((e) => e.event), ["everyone"]);
    assert.deepEqual(
      seen.map((c) => c === `test${prefixes}:bus`),
      [false, false, true],
      "own channel, then shared",
    );
  });

  Deno.test("redisStores keeps every key under its prefix, with TTLs where state expires", async () => {
    const keyPrefix = `test${++prefixes}:`;
    // Database 1 is this test's alone: every key in it was written by this bundle.
    const stores = await redisStores({ url: `${server.url}/1`, keyPrefix });
    const raw = createClient({ url: `${server.url}/1` });
    await raw.connect();
    try {
      await stores.leases.acquire("session:x", "me", 60_000);
      await stores.rateLimits.hit("auth:203.0.113.9", { max: 3, windowMs: 60_000 });
      await stores.idempotency.run("ns", "k", "fp", () => Promise.resolve(1));
      await stores.runs.put(
        { runId: "r", sessionKey: "s", agentId: "main", acceptedAt: 1, state: "queued" },
        60_000,
      );
      await stores.responseSessions.remember("resp", { agentId: "main", sessionKey: "s" }, 60_000);
      await stores.transcripts.append({ agentId: "main", sessionId: "s" }, [
        { id: "1", ts: 1, role: "user", content: "hi" },
      ]);
      const keys = await raw.keys("*");
      assert.ok(keys.length >= 7, keys.join(" "));
      assert.deepEqual(keys.filter((k) => !k.startsWith(keyPrefix)), []);
      const [shared, own, changes, ...more] = (await raw.pubSubChannels()).sort();
      assert.equal(shared, `${keyPrefix}bus`, "the bus channel too");
      assert.match(own, new RegExp(`^${keyPrefix}bus:[0-9a-f-]{36}$`), "and the replica's own");
      assert.equal(changes, `${keyPrefix}changes`, "and the change feed");
      assert.deepEqual(more, []);
      const expiring = [
        "lease:session:x",
        "rate:auth:203.0.113.9:hits",
        "idempotency:ns:k",
        "run:r",
        "runs-of:s",
      ]
        .concat("response:resp");
      for (const name of expiring) {
        const ttl = await raw.pTTL(keyPrefix + name);
        assert.ok(ttl > 0 && ttl <= 60_000 * 10, `${name} expires (PTTL ${ttl})`);
      }
      assert.equal(await raw.pTTL(`${keyPrefix}transcript:["main","s"]`), -1, "a transcript is kept");
      // A namespace's order outlives its records by a claim's life (15 s), then goes with it.
      const order = await raw.pTTL(`${keyPrefix}idempotency-order:ns`);
      assert.ok(order > 60_000 * 10 && order <= 60_000 * 10 + 15_000, `the order expires (PTTL ${order})`);
    } finally {
      await raw.close();
      await stores.close();
    }
    await stores.close();
  });

  Deno.test("two gateways on one Redis: a turn sent to one streams to, and is read back through, the other", async () => {
    const [storesA, storesB] = await pair();
    const config = {
      gateway: { auth: { mode: "token" as const, token: TOKEN } },
      agents: { defaults: { model: { primary: "local/scripted-1" } } },
    };
    const a = await startGateway({ config, stores: storesA, modules: [agentsModule()] });
    const b = await startGateway({ config, stores: storesB, modules: [agentsModule()] });
    try {
      const watcher = await client(b);
      await watcher.request("sessions.messages.subscribe", { key: "main" });
      const sender = await client(a);
      const send = { sessionKey: "main", message: "across", idempotencyKey: "once" };
      const sent = await sender.request("chat.send", send);
      const runId = (sent.payload as { runId: string }).runId;
      const waited = await watcher.request("agent.wait", { runId, timeoutMs: 5_000 });
      assert.equal((waited.payload as { status: string }).status, "ok");
      const final = (f: Frame) => f.event === "chat" && (f.payload as { state: string }).state === "final";
      await (watcher.socket.skipped.find(final) ?? watcher.socket.waitFor(final));
      // The retry reaches the other replica: same run, nothing new started.
      const retried = await watcher.request("chat.send", send);
      assert.equal((retried.payload as { runId: string }).runId, runId);
      const history = await watcher.request("chat.history", { sessionKey: "main" });
      const texts = (history.payload as { messages: { content: string | { text: string }[] }[] }).messages
        .map(historyText);
      assert.deepEqual(texts, ["across", 'Local model reply #1: you said "across".']);
      const list = await watcher.request("sessions.list", {});
      assert.equal((list.payload as { count: number }).count, 1);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  Deno.test("redis stores: commands fail at once while Redis is down and work again when it is back", async () => {
    const own = await startRedisServer();
    const port = Number(new URL(own.url).port);
    const errors: unknown[] = [];
    const stores = await redisStores({ url: own.url, onError: (error) => errors.push(error) });
    let again: RedisServer | undefined;
    try {
      await stores.stateVersions.bump("health");
      await own.stop();
      const started = Date.now();
      await assert.rejects(stores.stateVersions.bump("health"));
      assert.ok(Date.now() - started < 1_000, "no waiting for a connection");
      again = await startRedisServer(port);
      const deadline = Date.now() + 10_000;
      for (;;) {
        // The new server has none of the scripts loaded: the store sends their text again.
        const bumped = await stores.stateVersions.bump("health").catch(() => undefined);
        if (bumped) {
          assert.deepEqual(bumped, { presence: 1, health: 2 }, "a fresh server counts from the start");
          break;
        }
        if (Date.now() > deadline) throw new Error("the stores did not reconnect");
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(errors.length > 0, "the lost connection was reported");
    } finally {
      await stores.close();
      await own.stop();
      await again?.stop();
    }
  });
}

Deno.test("redisStores rejects at once when the server cannot be reached", async () => {
  const started = Date.now();
  await assert.rejects(
    redisStores({ url: `redis://127.0.0.1:${freePort()}`, onError: () => {} }),
    /ECONNREFUSED/,
  );
  assert.ok(Date.now() - started < 5_000);
});
