// Two gateways on one stores bundle behave as replicas of one gateway: what one learns (a lockout, a
// pairing, a presence row, a state version, a keyed outcome) the other sees. Any bundle runs these.
import assert from "node:assert/strict";
import { GatewayError } from "../../lib/errors.ts";
import { hooksModule } from "../../lib/hooks/mod.ts";
import type { PairedDevice } from "../../lib/state/devices.ts";
import type { PresenceStore } from "../../lib/state/presence.ts";
import type { GatewayStores } from "../../lib/state/stores.ts";
import { createGateway, type Gateway, type GatewayModule, type GatewayOptions } from "../../mod.ts";
import { configMethodsModule } from "../../runner/gateway/config-methods.ts";
import { countingModule, countingTurns, HOOK_TOKEN } from "../_counting.ts";
import { makeDevice, provenClient, type TestDevice } from "../_device_identity.ts";
import { client, connect, connectParams, TOKEN } from "../_helpers.ts";

const REMOTE = { remoteAddress: "203.0.113.7" };

/** `device` paired as an operator with the read scope, signing in with device token `token`. */
function readerDevice(device: TestDevice, token: string): PairedDevice {
  return {
    deviceId: device.id,
    publicKey: device.publicKey,
    role: "operator",
    roles: ["operator"],
    scopes: ["operator.read"],
    tokens: { operator: { token, role: "operator", scopes: ["operator.read"], createdAtMs: 1 } },
    createdAtMs: 1,
    approvedAtMs: 1,
  };
}

async function replica(stores: GatewayStores, modules: GatewayModule[] = [], extra: GatewayOptions = {}) {
  const gateway = createGateway({
    config: {
      gateway: { auth: { mode: "token", token: TOKEN, rateLimit: { maxAttempts: 2 } } },
      hooks: { enabled: true, token: HOOK_TOKEN },
    },
    stores,
    modules,
    ...extra,
  });
  await gateway.start();
  return gateway;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A presence store whose operations apply only after a delay of their own (writes may land out of the
 * order they were issued, as on a connection pool): races that a fast store hides show up. `applied`
 * names each write once it landed (`upsert:<instanceId>`, `remove`); `inflight` counts what has not.
 */
function slowPresence(
  inner: PresenceStore,
  ms: { upsert: number; remove: number; list: number },
): PresenceStore & { applied: string[]; inflight: () => number } {
  const applied: string[] = [];
  let inflight = 0;
  const after = <T>(delay: number, op: () => Promise<T>, name?: string) => {
    inflight++;
    return new Promise<T>((resolve, reject) =>
      setTimeout(() =>
        op().then((value) => {
          if (name) applied.push(name);
          resolve(value);
        }, reject).finally(() => inflight--), delay)
    );
  };
  return {
    upsert: (key, entry, options) =>
      after(ms.upsert, () => inner.upsert(key, entry, options), `upsert:${entry.instanceId}`),
    remove: (key, owner) => after(ms.remove, () => inner.remove(key, owner), "remove"),
    list: (now) => after(ms.list, () => inner.list(now)),
    applied,
    inflight: () => inflight,
  };
}

/**
 * Registers the replica tests for `name`; `makePair` returns two bundles over the same state (for
 * in-process stores, the same bundle twice).
 */
export function replicasContract(
  name: string,
  makePair: () => Promise<[GatewayStores, GatewayStores]>,
): void {
  const test = (what: string, fn: (a: GatewayStores, b: GatewayStores) => Promise<Gateway[]>) =>
    Deno.test(`${name} replicas: ${what}`, async () => {
      const [a, b] = await makePair();
      for (const gateway of await fn(a, b)) await gateway.stop();
    });

  test("a lockout earned on one replica holds on the other", async (a, b) => {
    const [one, two] = [await replica(a), await replica(b)];
    for (let i = 0; i < 2; i++) {
      const { response } = await connect(one, connectParams({ auth: { token: "wrong" } }), REMOTE);
      assert.equal((response.error as { details: { code: string } }).details.code, "AUTH_TOKEN_MISMATCH");
    }
    const { response } = await connect(two, connectParams(), REMOTE);
    assert.equal(response.ok, false, "the right token is refused while locked out");
    assert.equal((response.error as { details: { code: string } }).details.code, "AUTH_RATE_LIMITED");
    const http = await two.fetch(
      new Request("http://gw/v1/models", { headers: { authorization: `Bearer ${TOKEN}` } }),
      REMOTE,
    );
    assert.notEqual(http.status, 200);
    return [one, two];
  });

  test("a device paired through one replica's store signs in on the other with its token", async (a, b) => {
    const [one, two] = [await replica(a), await replica(b)];
    const device = await makeDevice();
    await a.devices.save(readerDevice(device, "device-token-0123456789"));
    const signedIn = await provenClient(
      two,
      device,
      connectParams({ auth: { token: "device-token-0123456789" }, scopes: ["operator.read"] }),
    );
    const auth = signedIn.hello.auth as { method: string; scopes: string[] };
    assert.equal(auth.method, "device-token");
    assert.deepEqual(auth.scopes, ["operator.read"]);
    return [one, two];
  });

  test(
    "presence lists the clients of every replica, and a disconnect removes the row everywhere",
    async (a, b) => {
      const [one, two] = [await replica(a), await replica(b)];
      const ui = await client(one, connectParams({ client: { id: "ui", mode: "ui", instanceId: "on-one" } }));
      const watcher = await client(two);
      await until(async () => {
        const res = await watcher.request("system-presence");
        return JSON.stringify(res.payload).includes('"instanceId":"on-one"');
      }, "the row written through replica one");
      ui.socket.close();
      await until(async () => {
        const res = await watcher.request("system-presence");
        return !JSON.stringify(res.payload).includes('"instanceId":"on-one"');
      }, "the row to go");
      return [one, two];
    },
  );

  test(
    "a device that moved to the other replica keeps its row when its old socket closes late",
    async (a, b) => {
      const [one, two] = [await replica(a), await replica(b)];
      const device = await makeDevice();
      await a.devices.save(readerDevice(device, "device-token-mover-0123456789"));
      const asDevice = (instanceId: string) =>
        connectParams({
          auth: { token: "device-token-mover-0123456789" },
          scopes: ["operator.read"],
          client: { id: "ui", version: "1", platform: "linux", mode: "ui", instanceId },
        });
      const rowOf = async () =>
        (await two.state.presence()).find((row) => row.deviceId === device.id)?.instanceId;
      const old = await provenClient(one, device, asDevice("first-socket"));
      await until(async () => await rowOf() === "first-socket", "the first socket's row");
      await provenClient(two, device, asDevice("second-socket"));
      await until(async () => await rowOf() === "second-socket", "the second socket's row");
      old.socket.close();
      // A refused removal announces nothing: give the close time to be handled.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(
        await rowOf(),
        "second-socket",
        "the old socket's close removed the row it no longer owns",
      );
      return [one, two];
    },
  );

  test("stateVersion counts once for all replicas", async (a, b) => {
    const [one, two] = [await replica(a), await replica(b)];
    await client(one, connectParams({ client: { id: "ui", mode: "ui", instanceId: "sv" } }));
    await until(async () => (await b.stateVersions.current()).presence > 1, "the presence bump");
    const expected = await a.stateVersions.current();
    const { hello } = await client(two, connectParams({ client: { id: "cli", mode: "backend" } }));
    const shown = (hello.snapshot as { stateVersion: unknown }).stateVersion;
    assert.deepEqual(shown, expected);
    assert.deepEqual(await two.state.stateVersion(), await one.state.stateVersion());
    return [one, two];
  });

  test(
    "a presence event relayed from the other replica carries the version the change made",
    async (a, b) => {
      const [one, two] = [await replica(a), await replica(b)];
      // A backend client holds no presence row, so the join below is the only change to count.
      const watcher = await client(two, connectParams({ client: { id: "cli", mode: "backend" } }));
      await client(one, connectParams({ client: { id: "ui", mode: "ui", instanceId: "relayed" } }));
      const event = await watcher.socket.waitFor((frame) =>
        frame.type === "event" && frame.event === "presence" &&
        JSON.stringify(frame.payload).includes("relayed")
      );
      const stamped = (event as { stateVersion?: { presence: number } }).stateVersion;
      assert.equal(stamped?.presence, (await a.stateVersions.current()).presence);
      return [one, two];
    },
  );

  test(
    "a keyed request retried on the other replica gets the first outcome and runs nothing",
    async (a, b) => {
      const runs = { n: 0 };
      const [one, two] = [await replica(a, [countingModule(runs)]), await replica(b, [countingModule(runs)])];
      const params = { idempotencyKey: "retry-1", note: "same" };
      assert.deepEqual(await one.call("test.count", params), { n: 1 });
      assert.deepEqual(await two.call("test.count", params), { n: 1 });
      assert.equal(runs.n, 1);
      await assert.rejects(two.call("test.count", { ...params, note: "other" }), /already used/);
      return [one, two];
    },
  );

  test("a hook delivery retried on the other replica starts no second run", async (a, b) => {
    const runs = { n: 0 };
    const hooks = () => hooksModule({ turns: countingTurns(runs) });
    const [one, two] = [await replica(a, [hooks()]), await replica(b, [hooks()])];
    const post = (gateway: Gateway) =>
      gateway.fetch(
        new Request("http://gw/hooks/agent", {
          method: "POST",
          headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ message: "hi", idempotencyKey: "hook-retry-1" }),
        }),
      );
    const first = await (await post(one)).json();
    const again = await (await post(two)).json();
    assert.deepEqual(again, first);
    assert.equal(runs.n, 1);
    // A method call sending the hook's store key as its own idempotencyKey does not reach the hook's record.
    const methodRuns = { n: 0 };
    const three = await replica(a, [countingModule(methodRuns)]);
    const key = `hook:${JSON.stringify(["agent", "main", "hook-retry-1"])}`;
    assert.deepEqual(await three.call("test.count", { idempotencyKey: key }), { n: 1 });
    return [one, two, three];
  });

  test(
    "a next-heartbeat wake accepted by one replica waits in the shared queue for any replica's turn",
    async (a, b) => {
      const runs = { n: 0 };
      const one = await replica(a, [hooksModule({ turns: countingTurns(runs) })]);
      const response = await one.fetch(
        new Request("http://gw/hooks/wake", {
          method: "POST",
          headers: { authorization: `Bearer ${HOOK_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify({ text: "disk almost full", mode: "next-heartbeat" }),
        }),
      );
      assert.equal(response.status, 200);
      await response.body?.cancel();
      assert.equal(runs.n, 0, "nothing runs until the session's next turn");
      assert.deepEqual(await b.systemEvents.take("agent:main:main"), ["disk almost full"]);
      assert.deepEqual(await a.systemEvents.take("agent:main:main"), [], "taken once, for every replica");
      return [one];
    },
  );

  test("a hooks token lockout earned on one replica holds on the other", async (a, b) => {
    const runs = { n: 0 };
    const hooks = () => hooksModule({ turns: countingTurns(runs) });
    const [one, two] = [await replica(a, [hooks()]), await replica(b, [hooks()])];
    const post = (gateway: Gateway, token: string) =>
      gateway.fetch(
        new Request("http://gw/hooks/wake", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ text: "ping" }),
        }),
        REMOTE,
      );
    for (let i = 0; i < 20; i++) assert.equal((await post(one, "wrong")).status, 401);
    assert.equal((await post(two, HOOK_TOKEN)).status, 429);
    return [one, two];
  });

  test("the config write limit counts writes on every replica", async (a, b) => {
    const dir = await Deno.makeTempDir({ prefix: "openclaw-replicas-" });
    const configPath = `${dir}/openclaw.json`;
    await Deno.writeTextFile(configPath, "{}\n");
    const config = () => configMethodsModule({ configPath, writeLimit: { max: 2, windowMs: 60_000 } });
    const [one, two] = [await replica(a, [config()]), await replica(b, [config()])];
    const set = async (gateway: Gateway) => {
      const { hash } = await gateway.call("config.get") as { hash: string };
      return await gateway.call("config.set", { raw: `{ "logging": { "level": "info" } }`, baseHash: hash });
    };
    await set(one);
    await set(one);
    await assert.rejects(set(two), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, "UNAVAILABLE");
      assert.ok(error.retryAfterMs! > 0 && error.retryAfterMs! <= 60_000);
      return true;
    });
    await Deno.remove(dir, { recursive: true });
    return [one, two];
  });

  test("an event published while hello-ok is being built follows it, never precedes it or is lost", async (a) => {
    let gate: Promise<void> | undefined;
    let release = () => {};
    let waiting = 0;
    const gated: PresenceStore = {
      upsert: (key, entry, options) => a.presence.upsert(key, entry, options),
      remove: (key, owner) => a.presence.remove(key, owner),
      async list(now) {
        if (gate) {
          waiting++;
          await gate;
        }
        return await a.presence.list(now);
      },
    };
    const gateway = await replica({ ...a, presence: gated });
    gate = new Promise((resolve) => release = resolve);
    const watching = connect(gateway);
    await until(() => Promise.resolve(waiting === 1), "the hello-ok snapshot to be read");
    gateway.bus.publish({ event: "test.early", payload: { n: 1 } });
    gate = undefined;
    release();
    const { socket, response } = await watching;
    assert.equal(response.ok, true);
    assert.ok(!socket.skipped.some((f) => f.event === "test.early"), "the event went out before hello-ok");
    const early = await socket.waitFor((f) => f.event === "test.early");
    assert.deepEqual([early.payload, early.seq], [{ n: 1 }, 1]);
    return [gateway];
  });

  test("a client that leaves right after joining leaves no row, even on a slow store", async (a) => {
    const presence = slowPresence(a.presence, { upsert: 30, remove: 1, list: 1 });
    const gateway = await replica({ ...a, presence });
    const { socket, response } = await connect(
      gateway,
      connectParams({ client: { id: "ui", mode: "ui", instanceId: "blink" } }),
    );
    assert.equal(response.ok, true);
    socket.close();
    // Both writes landed, in whatever order the gateway let them: only then is the outcome final.
    const landed = () =>
      presence.applied.includes("upsert:blink") && presence.applied.includes("remove") &&
      presence.inflight() === 0;
    await until(() => Promise.resolve(landed()), "the join and the leave to reach the store");
    const rows = await gateway.state.presence();
    assert.ok(!rows.some((r) => r.instanceId === "blink"), "the removal was overtaken by the upsert");
    return [gateway];
  });
}
