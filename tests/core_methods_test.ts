import assert from "node:assert/strict";
import { assertMatchesSchema } from "./_protocol_schema.ts";
import { client, connectParams, startGateway } from "./_helpers.ts";
import { z } from "zod";
import { defineMethod, GatewayError } from "../mod.ts";

Deno.test("health, status, system-presence and logs.tail answer with schema-valid payloads", async () => {
  const gateway = await startGateway();
  const c = await client(gateway);
  const health = await c.request("health");
  assert.equal(health.ok, true);
  assert.equal((health.payload as { ok: boolean }).ok, true);
  const presence = await c.request("system-presence");
  const rows = presence.payload as { mode: string; reason: string }[];
  assert.ok(Array.isArray(rows));
  assert.ok(rows.some((r) => r.mode === "gateway" && r.reason === "self"));
  for (const row of rows) assertMatchesSchema("PresenceEntry", row);
  const logs = await c.request("logs.tail", { limit: 5 });
  assertMatchesSchema("LogsTailResult", logs.payload);
  const status = await c.request("status");
  assert.equal(status.ok, true);
  await gateway.stop();
});

Deno.test("unknown method is INVALID_REQUEST with the reference wording", async () => {
  const gateway = await startGateway();
  const c = await client(gateway);
  const res = await c.request("nonexistent.method");
  assert.deepEqual(res.error, { code: "INVALID_REQUEST", message: "unknown method: nonexistent.method" });
  await gateway.stop();
});

Deno.test("bad params name the offending field", async () => {
  const gateway = await startGateway();
  const c = await client(gateway);
  const res = await c.request("logs.tail", { limit: -3 });
  assert.equal(res.ok, false);
  assert.match(
    (res.error as { message: string }).message,
    /^invalid logs\.tail params: at \/limit: must be >= 1$/,
  );
  await gateway.stop();
});

Deno.test("a caller without the scope gets FORBIDDEN with MISSING_SCOPE details", async () => {
  const gateway = await startGateway();
  gateway.registerMethod(defineMethod({
    name: "danger.do",
    scope: "operator.admin",
    params: z.strictObject({}),
    handler: () => ({ done: true }),
  }));
  const c = await client(gateway, connectParams({ scopes: ["operator.read"] }));
  const res = await c.request("danger.do");
  assert.deepEqual(res.error, {
    code: "FORBIDDEN",
    message: "missing scope: operator.admin",
    details: { code: "MISSING_SCOPE", missingScope: "operator.admin", requiredScopes: ["operator.admin"] },
  });
  const admin = await client(gateway, connectParams({ scopes: ["operator.admin"] }));
  assert.deepEqual((await admin.request("danger.do")).payload, { done: true });
  await gateway.stop();
});

Deno.test("handler errors become error frames without leaking internals", async () => {
  const gateway = await startGateway();
  gateway.registerMethod(defineMethod({
    name: "boom",
    scope: "operator.read",
    params: z.strictObject({}),
    handler: () => {
      throw new Error("secret stack detail");
    },
  }));
  gateway.registerMethod(defineMethod({
    name: "nf",
    scope: "operator.read",
    params: z.strictObject({}),
    handler: () => {
      throw new GatewayError("NOT_FOUND", "no such task: t1");
    },
  }));
  const c = await client(gateway);
  const boom = await c.request("boom");
  assert.equal((boom.error as { code: string }).code, "UNAVAILABLE");
  assert.doesNotMatch(JSON.stringify(boom.error), /secret stack/);
  assert.deepEqual((await c.request("nf")).error, { code: "NOT_FOUND", message: "no such task: t1" });
  await gateway.stop();
});

Deno.test("two-stage methods send an ack then a final response with the same id", async () => {
  const gateway = await startGateway();
  gateway.registerMethod(defineMethod({
    name: "slow.run",
    scope: "operator.write",
    params: z.strictObject({}),
    handler: async (call) => {
      call.ack({ runId: "run-1", status: "accepted" });
      await new Promise((r) => setTimeout(r, 10));
      return { runId: "run-1", status: "ok" };
    },
  }));
  const c = await client(gateway);
  c.socket.send({ type: "req", id: "two", method: "slow.run", params: {} });
  const first = await c.socket.waitFor((f) => f.id === "two");
  const second = await c.socket.waitFor((f) => f.id === "two");
  assert.equal((first.payload as { status: string }).status, "accepted");
  assert.equal((second.payload as { status: string }).status, "ok");
  await gateway.stop();
});

Deno.test("idempotency keys run a method once and replay the result", async () => {
  const gateway = await startGateway();
  let runs = 0;
  gateway.registerMethod(defineMethod({
    name: "counter.bump",
    scope: "operator.write",
    params: z.strictObject({ idempotencyKey: z.string().min(1) }),
    handler: () => ({ n: ++runs }),
  }));
  const c = await client(gateway);
  const a = await c.request("counter.bump", { idempotencyKey: "k1" });
  const b = await c.request("counter.bump", { idempotencyKey: "k1" });
  const d = await c.request("counter.bump", { idempotencyKey: "k2" });
  assert.deepEqual([a.payload, b.payload, d.payload], [{ n: 1 }, { n: 1 }, { n: 2 }]);
  await gateway.stop();
});

Deno.test("events carry a per-socket increasing seq and are filtered by scope", async () => {
  const gateway = await startGateway();
  const reader = await client(gateway, connectParams({ scopes: ["operator.read"] }));
  const writer = await client(gateway, connectParams({ scopes: ["operator.write"] }));
  gateway.bus.publish({ event: "custom.a", payload: { i: 1 } });
  gateway.bus.publish({ event: "custom.admin", payload: {}, scope: "operator.admin" });
  gateway.bus.publish({ event: "custom.a", payload: { i: 2 } });
  const e1 = await reader.socket.waitFor((f) => f.event === "custom.a");
  const e2 = await reader.socket.waitFor((f) => f.event === "custom.a" || f.event === "custom.admin");
  assert.equal(e2.event, "custom.a");
  assert.ok((e2.seq as number) > (e1.seq as number));
  const w = await writer.socket.waitFor((f) => f.event === "custom.a");
  assert.equal(typeof w.seq, "number");
  await gateway.stop();
});

Deno.test("presence changes are broadcast with stateVersion", async () => {
  const gateway = await startGateway();
  const watcher = await client(gateway);
  const before = (await gateway.state.stateVersion()).presence;
  await client(gateway, connectParams({ client: { id: "ui-1", mode: "ui", instanceId: "abc" } }));
  const event = await watcher.socket.waitFor((f) =>
    f.event === "presence" && JSON.stringify(f.payload).includes('"instanceId":"abc"')
  );
  const sv = event.stateVersion as { presence: number; health: number };
  assert.ok(sv.presence > before);
  const rows = (event.payload as { presence: { instanceId?: string }[] }).presence;
  assert.ok(rows.some((r) => r.instanceId === "abc"));
  await gateway.stop();
});

Deno.test("ticks arrive on the configured interval", async () => {
  const gateway = await startGateway({ timing: { tickIntervalMs: 20 } });
  const c = await client(gateway);
  const tick = await c.socket.waitFor((f) => f.event === "tick");
  assertMatchesSchema("TickEvent", tick.payload);
  await gateway.stop();
});

Deno.test("slow consumers: droppable events are skipped, others close the socket", async () => {
  const gateway = await startGateway({ limits: { maxBufferedBytes: 1000 } });
  const c = await client(gateway);
  c.socket.setBufferedAmount(5000);
  gateway.bus.publish({ event: "tick", payload: { ts: 1 }, dropIfSlow: true });
  c.socket.setBufferedAmount(0);
  gateway.bus.publish({ event: "custom.after", payload: {} });
  const after = await c.socket.waitFor((f) => f.event === "custom.after");
  assert.equal(c.socket.skipped.filter((f) => f.event === "tick").length, 0);
  assert.ok((after.seq as number) >= 2, "the dropped event still consumed a seq so the client sees a gap");
  c.socket.setBufferedAmount(5000);
  gateway.bus.publish({ event: "custom.must", payload: {} });
  const closed = await c.socket.closed;
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /slow consumer/);
  await gateway.stop();
});

Deno.test("stop sends shutdown then closes every socket with 1012", async () => {
  const gateway = await startGateway();
  const c = await client(gateway);
  await gateway.stop({ reason: "restart", restartExpectedMs: 4000 });
  const shutdown = await c.socket.waitFor((f) => f.event === "shutdown");
  assert.deepEqual(shutdown.payload, { reason: "restart", restartExpectedMs: 4000 });
  assertMatchesSchema("ShutdownEvent", shutdown.payload);
  assert.deepEqual(await c.socket.closed, { code: 1012, reason: "service restart" });
});

Deno.test("in-process calls enforce the caller's scopes", async () => {
  const gateway = await startGateway();
  gateway.registerMethod(defineMethod({
    name: "admin.only",
    scope: "operator.admin",
    params: z.strictObject({}),
    handler: () => "yes",
  }));
  assert.equal(await gateway.call("admin.only"), "yes");
  await assert.rejects(
    gateway.call("admin.only", {}, {
      connId: "x",
      role: "operator",
      scopes: ["operator.read"],
      authMethod: "test",
    }),
    /missing scope: operator.admin/,
  );
  await gateway.stop();
});

Deno.test("updateConfig rejects an invalid config and keeps the old one", async () => {
  const gateway = await startGateway();
  const before = gateway.config();
  const result = gateway.updateConfig({ gateway: { port: "not-a-port" } });
  assert.equal(result.ok, false);
  if (!result.ok) assert.equal(result.issues[0].path, "gateway.port");
  assert.equal(gateway.config(), before);
  assert.deepEqual(gateway.updateConfig({ gateway: { auth: { token: "t2" }, port: 1234 } }), { ok: true });
  assert.equal(gateway.config().gateway?.port, 1234);
  await gateway.stop();
});

Deno.test("stop lets in-flight calls finish and refuses new ones while draining", async () => {
  const gateway = await startGateway({ timing: { drainTimeoutMs: 2000 } });
  const release = Promise.withResolvers<void>();
  gateway.registerMethod(defineMethod({
    name: "slow.turn",
    scope: "operator.write",
    params: z.strictObject({}),
    handler: async () => {
      await release.promise;
      return { finished: true };
    },
  }));
  const c = await client(gateway);
  c.socket.send({ type: "req", id: "turn", method: "slow.turn", params: {} });
  await new Promise((r) => setTimeout(r, 10));
  const stopping = gateway.stop({ reason: "gateway stopping" });
  c.socket.send({ type: "req", id: "late", method: "health", params: {} });
  const late = await c.socket.waitFor((f) => f.id === "late");
  assert.equal((late.error as { code: string; retryable: boolean }).code, "UNAVAILABLE");
  release.resolve();
  const turn = await c.socket.waitFor((f) => f.id === "turn");
  assert.deepEqual(turn.payload, { finished: true });
  await stopping;
  assert.equal((await c.socket.closed).code, 1012);
});

Deno.test("a retried two-stage call with the same idempotency key replays the ack and the result", async () => {
  const gateway = await startGateway();
  let runs = 0;
  gateway.registerMethod(defineMethod({
    name: "run.once",
    scope: "operator.write",
    params: z.strictObject({ idempotencyKey: z.string().min(1) }),
    handler: (call) => {
      runs++;
      call.ack({ runId: "r1", status: "accepted" });
      return { runId: "r1", status: "ok" };
    },
  }));
  const c = await client(gateway);
  for (const id of ["a", "b"]) {
    c.socket.send({ type: "req", id, method: "run.once", params: { idempotencyKey: "same" } });
    const ack = await c.socket.waitFor((f) => f.id === id);
    const final = await c.socket.waitFor((f) => f.id === id);
    assert.deepEqual([ack.payload, final.payload], [{ runId: "r1", status: "accepted" }, {
      runId: "r1",
      status: "ok",
    }]);
  }
  assert.equal(runs, 1);
  await gateway.stop();
});

Deno.test("a health call broadcasts a health event with a bumped stateVersion", async () => {
  const gateway = await startGateway();
  const watcher = await client(gateway);
  const caller = await client(gateway);
  const before = (watcher.hello.snapshot as { stateVersion: { health: number } }).stateVersion.health;
  await caller.request("health");
  const event = await watcher.socket.waitFor((f) => f.event === "health");
  assert.equal((event.stateVersion as { health: number }).health, before + 1);
  assert.equal((event.payload as { ok: boolean }).ok, true);
  await gateway.stop();
});

Deno.test("/readyz reports failing checks to local callers and only yes/no to remote ones", async () => {
  let channelDown: string | undefined = "telegram: polling failed";
  const gateway = await startGateway({
    modules: [{ name: "probe", setup: (ctx) => ctx.addReadinessCheck("channels", () => channelDown) }],
  });
  const ask = async (remoteAddress: string) => {
    const res = await gateway.fetch(new Request("http://gw/readyz"), { remoteAddress });
    return { status: res.status, body: await res.json() };
  };
  const local = await ask("127.0.0.1");
  assert.equal(local.status, 503);
  assert.deepEqual(local.body.failing, ["channels:telegram: polling failed"]);
  assert.deepEqual((await ask("203.0.113.5")).body, { ok: false, status: "not-ready" });
  channelDown = undefined;
  const ready = await ask("127.0.0.1");
  assert.equal(ready.status, 200);
  assert.equal(ready.body.ready, true);
  const startup = await gateway.fetch(new Request("http://gw/startupz"));
  assert.deepEqual(await startup.json(), { ok: true, status: "started" });
  await gateway.stop();
});

Deno.test("the gateway's own presence row outlives the presence TTL; idle client rows do not", async () => {
  let clock = 1_000_000;
  const gateway = await startGateway({ now: () => clock });
  await client(gateway, connectParams({ client: { id: "ui-2", mode: "ui", instanceId: "idle-ui" } }));
  clock += 6 * 60_000;
  const rows = await gateway.state.presence();
  assert.ok(rows.some((r) => r.mode === "gateway" && r.reason === "self"), "self row expired");
  assert.ok(!rows.some((r) => r.instanceId === "idle-ui"), "an idle client row should expire");
  await gateway.stop();
});
