// The Redis round trips a connect waits for between `connect` and `hello-ok`: none, once a replica has read
// what it keeps (the presence snapshot, the pairings it saw, which client addresses failed to sign in), for
// browser and remote clients (whose address is rate limited), device-token clients and device-signed ones.
// And what the replica-local views must not cost: a lockout, a revoked token and a pairing change made
// through one replica hold on the other as soon as its feed delivers them, and a view that may have missed a change (its feed
// dropped) is read again.
import assert from "node:assert/strict";
import { createClient } from "redis";
import { type RedisStores, redisStores } from "../stores/redis.ts";
import type { Gateway } from "../mod.ts";
import { connect, connectParams, startGateway } from "./_helpers.ts";
import { connectDevice, makeDevice } from "./_device_identity.ts";
import { REDIS_SERVER, type RedisServer, startRedisServer } from "./_redis_server.ts";

const REMOTE = "198.51.100.7";
/** A client that gets no presence row: the only Redis traffic of its connect is what hello-ok waits for. */
const BACKEND = { id: "gateway-client", version: "1", platform: "linux", mode: "backend" };
const DEVICE_CLIENT = { ...BACKEND, deviceFamily: "Desktop" };
const POLICY = { max: 3, windowMs: 60_000, lockoutMs: 300_000 };

/**
 * `read()` once `accept` holds of it, within a second: a change reaches another replica when its feed
 * message does, which is after the writer's reply may have come back (another connection).
 */
async function delivered<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 1_000;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Socket reads Redis served so far (one per round trip; pipelined commands share one). */
async function redisReads(raw: ReturnType<typeof createClient>): Promise<number> {
  return Number(/total_reads_processed:(\d+)/.exec(await raw.info("stats"))![1]);
}

if (!REDIS_SERVER && !Deno.env.get("CI")) {
  Deno.test({ name: "handshake round trips on Redis (redis-server not installed)", ignore: true, fn() {} });
} else {
  const server: RedisServer = await startRedisServer();
  Deno.test.afterAll(() => server.stop());
  let prefixes = 0;
  const open: { stores: RedisStores[]; gateways: Gateway[]; raws: ReturnType<typeof createClient>[] } = {
    stores: [],
    gateways: [],
    raws: [],
  };
  Deno.test.afterEach(async () => {
    for (const gateway of open.gateways.splice(0)) await gateway.stop();
    for (const stores of open.stores.splice(0)) await stores.close();
    for (const raw of open.raws.splice(0)) await raw.close();
  });
  /** `count` bundles over one fresh prefix (replicas of one cluster), a gateway on each, and a raw client. */
  const cluster = async (count: number) => {
    const keyPrefix = `hs${++prefixes}:`;
    const stores = await Promise.all(
      Array.from({ length: count }, () => redisStores({ url: server.url, keyPrefix })),
    );
    open.stores.push(...stores);
    // A clock that stands still: no snapshot grows old while the test counts.
    const clock = Date.now();
    const gateways = await Promise.all(stores.map((s) => startGateway({ stores: s, now: () => clock })));
    open.gateways.push(...gateways);
    const raw = createClient({ url: server.url });
    await raw.connect();
    open.raws.push(raw);
    return { stores, gateways, raw, keyPrefix };
  };

  Deno.test("a connect waits for no Redis round trip once the replica has read what it keeps", async () => {
    const { gateways: [gateway], raw } = await cluster(1);
    const device = await makeDevice();
    const paired = await connectDevice(gateway, device, { client: DEVICE_CLIENT });
    assert.equal(paired.response.ok, true, "paired silently over loopback");
    const deviceToken = (paired.response.payload as { auth: { deviceToken: string } }).auth.deviceToken;
    paired.socket.close();
    const kinds: [string, () => Promise<{ ok: unknown; close(): void }>][] = [
      ["a remote client (its address is rate limited)", async () => {
        const { socket, response } = await connect(gateway, connectParams({ client: BACKEND }), {
          remoteAddress: REMOTE,
        });
        return { ok: response.ok, close: () => socket.close() };
      }],
      ["a browser on loopback (its origin makes it rate limited)", async () => {
        const { socket, response } = await connect(gateway, connectParams({ client: BACKEND }), {
          headers: { origin: "http://127.0.0.1" },
        });
        return { ok: response.ok, close: () => socket.close() };
      }],
      ["a device token from a remote address", async () => {
        const { socket, response } = await connectDevice(gateway, device, {
          client: DEVICE_CLIENT,
          token: deviceToken,
          remoteAddress: REMOTE,
        });
        return { ok: response.ok, close: () => socket.close() };
      }],
      ["a paired device signing its connect", async () => {
        const { socket, response } = await connectDevice(gateway, device, { client: DEVICE_CLIENT });
        return { ok: response.ok, close: () => socket.close() };
      }],
    ];
    // Each kind once first: the replica reads the snapshot, the pairing and the rate-limit marks once.
    for (const [, run] of kinds) (await run()).close();
    const roundTrips: Record<string, number> = {};
    for (const [what, run] of kinds) {
      const before = await redisReads(raw);
      for (let i = 0; i < 5; i++) {
        const client = await run();
        assert.equal(client.ok, true, what);
        client.close();
      }
      // Less the INFO that read the count.
      roundTrips[what] = await redisReads(raw) - before - 1;
    }
    assert.deepEqual(
      roundTrips,
      Object.fromEntries(kinds.map(([what]) => [what, 0])),
      "Redis round trips over 5 connects of each kind",
    );
  });

  Deno.test("with Redis paused, a connect still gets its hello-ok", async () => {
    const { gateways: [gateway], raw } = await cluster(1);
    const params = connectParams({ client: BACKEND });
    (await connect(gateway, params, { remoteAddress: REMOTE })).socket.close();
    await raw.sendCommand(["CLIENT", "PAUSE", "1000", "ALL"]);
    try {
      const answered = connect(gateway, params, { remoteAddress: REMOTE });
      const first = await Promise.race([answered, new Promise((r) => setTimeout(() => r("waiting"), 500))]);
      assert.notEqual(first, "waiting", "hello-ok came while Redis answered nothing");
      (await answered).socket.close();
    } finally {
      await raw.sendCommand(["CLIENT", "UNPAUSE"]);
    }
  });

  Deno.test("a lockout earned through one replica holds on the other once its feed delivers it, and lifts with a success", async () => {
    const { stores: [a, b] } = await cluster(2);
    const key = `ip:${REMOTE}`;
    assert.deepEqual(await b.rateLimits.peek(key, POLICY), { hits: 0, retryAfterMs: 0 });
    await a.rateLimits.hit(key, POLICY);
    const seen = await delivered(() => b.rateLimits.peek(key, POLICY), (state) => state.hits > 0);
    assert.deepEqual(seen, { hits: 1, retryAfterMs: 0 }, "one failure seen");
    await b.rateLimits.reset(key);
    const reset = await delivered(() => a.rateLimits.peek(key, POLICY), (state) => state.hits === 0);
    assert.deepEqual(reset, { hits: 0, retryAfterMs: 0 }, "reset seen");
    for (let i = 0; i < POLICY.max; i++) await a.rateLimits.hit(key, POLICY);
    const locked = await delivered(() => b.rateLimits.peek(key, POLICY), (state) => state.retryAfterMs > 0);
    assert.ok(locked.retryAfterMs > 290_000, `locked on b: ${JSON.stringify(locked)}`);
    await b.rateLimits.reset(key);
    assert.ok((await a.rateLimits.peek(key, POLICY)).retryAfterMs > 0, "a success lifts no lockout");
  });

  Deno.test("a lockout the feed did not carry (its subscription dropped) is read again when it returns", async () => {
    const { stores: [a], raw, keyPrefix } = await cluster(1);
    const key = `ip:${REMOTE}`;
    assert.equal((await a.rateLimits.peek(key, POLICY)).retryAfterMs, 0);
    // Another replica's lockout whose message this replica missed: written, not published.
    const until = Date.now() + 300_000;
    await raw.set(`${keyPrefix}rate:${key}:lock`, String(until), { PX: 300_000 });
    await raw.zAdd(`${keyPrefix}rate:marks`, { score: until, value: key });
    assert.equal((await a.rateLimits.peek(key, POLICY)).retryAfterMs, 0, "the view answers, unaware");
    await raw.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
    const deadline = Date.now() + 5_000;
    while ((await a.rateLimits.peek(key, POLICY)).retryAfterMs === 0) {
      assert.ok(Date.now() < deadline, "the lockout was never seen");
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.ok((await a.rateLimits.peek(key, POLICY)).retryAfterMs > 0, "and stays seen after the reload");
  });

  Deno.test("a token revoked or a pairing removed through one replica is refused by the other once its feed delivers it", async () => {
    const { stores: [a, b], gateways: [, gatewayB] } = await cluster(2);
    const device = await makeDevice();
    const paired = await connectDevice(gatewayB, device, { client: DEVICE_CLIENT });
    const deviceToken = (paired.response.payload as { auth: { deviceToken: string } }).auth.deviceToken;
    paired.socket.close();
    const withToken = async () =>
      (await connectDevice(gatewayB, device, {
        client: DEVICE_CLIENT,
        token: deviceToken,
        remoteAddress: REMOTE,
      }))
        .response;
    assert.equal((await withToken()).ok, true);
    assert.equal((await withToken()).ok, true, "answered from what b keeps");
    const record = (await a.devices.get(device.id))!;
    await a.devices.save({
      ...record,
      tokens: Object.fromEntries(
        Object.entries(record.tokens).map(([role, t]) => [role, { ...t, revokedAtMs: Date.now() }]),
      ),
    });
    assert.equal(
      (await delivered(withToken, (answer) => !answer.ok)).ok,
      false,
      "the revoked token is refused on b",
    );
    assert.equal(await b.devices.byToken(deviceToken), undefined);
    await a.devices.remove(device.id);
    const removed = await delivered(() => b.devices.get(device.id), (found) => found === undefined);
    assert.equal(removed, undefined, "the removal is seen on b");
    const again = await connectDevice(gatewayB, device, { client: DEVICE_CLIENT, remoteAddress: REMOTE });
    assert.equal(again.response.ok, false, "a removed device must pair again");
    again.socket.close();
  });

  Deno.test("a pairing change the feed did not carry (its subscription dropped) is read again when it returns", async () => {
    const { stores: [a], raw, keyPrefix } = await cluster(1);
    const device = await makeDevice();
    const { response, socket } = await connectDevice(open.gateways[0], device, { client: DEVICE_CLIENT });
    const deviceToken = (response.payload as { auth: { deviceToken: string } }).auth.deviceToken;
    socket.close();
    assert.equal((await a.devices.byToken(deviceToken))?.deviceId, device.id);
    // Another replica's removal whose message this replica missed: written, not published.
    await raw.hDel(`${keyPrefix}devices:by-token`, deviceToken);
    await raw.hDel(`${keyPrefix}devices:by-id`, device.id);
    assert.equal((await a.devices.byToken(deviceToken))?.deviceId, device.id, "kept, unaware");
    await raw.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);
    const deadline = Date.now() + 5_000;
    while (await a.devices.byToken(deviceToken)) {
      assert.ok(Date.now() < deadline, "the removal was never seen");
      await new Promise((r) => setTimeout(r, 10));
    }
    while (a.bus.link!() === undefined) {
      assert.ok(Date.now() < deadline, "the subscription never came back");
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await a.devices.byToken(deviceToken), undefined, "nothing kept from before the drop");
    assert.equal(await a.devices.get(device.id), undefined);
  });
}
