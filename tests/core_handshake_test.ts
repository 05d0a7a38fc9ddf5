import assert from "node:assert/strict";
import { assertMatchesSchema } from "./_protocol_schema.ts";
import { client, connect, connectParams, startGateway, TOKEN } from "./_helpers.ts";

Deno.test("challenge carries a nonce and ts and no seq", async () => {
  const gateway = await startGateway();
  const { challenge, socket } = await connect(gateway);
  assert.equal(challenge.event, "connect.challenge");
  const payload = challenge.payload as { nonce: string; ts: number };
  assert.equal(typeof payload.nonce, "string");
  assert.ok(payload.nonce.length >= 16);
  assert.ok(Number.isInteger(payload.ts) && payload.ts > 0);
  assert.equal(challenge.seq, undefined);
  socket.close();
  await gateway.stop();
});

Deno.test("hello-ok matches the reference protocol schema and grants the requested scopes", async () => {
  const gateway = await startGateway({ paths: { configPath: "/tmp/x/openclaw.json", stateDir: "/tmp/x" } });
  const c = await client(gateway);
  assertMatchesSchema("HelloOk", c.hello);
  const auth = c.hello.auth as { role: string; scopes: string[] };
  assert.deepEqual(auth, { method: "token", role: "operator", scopes: ["operator.read", "operator.write"] });
  const features = c.hello.features as { methods: string[]; events: string[] };
  assert.ok(features.methods.includes("health"));
  assert.ok(features.events.includes("tick"));
  c.socket.close();
  await gateway.stop();
});

Deno.test("first frame other than connect gets an error and a close", async () => {
  const gateway = await startGateway();
  const { openMemorySocket } = await import("../mod.ts");
  const socket = openMemorySocket(gateway);
  await socket.next();
  socket.send({ type: "req", id: "x1", method: "health", params: {} });
  const res = await socket.next();
  assert.equal(res.ok, false);
  assert.match((res.error as { message: string }).message, /first request must be connect/);
  const closed = await socket.closed;
  assert.equal(closed.code, 1008);
  await gateway.stop();
});

Deno.test("non-JSON first frame closes with 1008", async () => {
  const gateway = await startGateway();
  const { openMemorySocket } = await import("../mod.ts");
  const socket = openMemorySocket(gateway);
  await socket.next();
  socket.send("{not json");
  assert.equal((await socket.closed).code, 1008);
  await gateway.stop();
});

Deno.test("pre-auth frames over 64 KiB close the socket with 1009", async () => {
  const gateway = await startGateway();
  const { openMemorySocket } = await import("../mod.ts");
  const socket = openMemorySocket(gateway);
  await socket.next();
  socket.send({ type: "req", id: "c", method: "connect", params: { pad: "x".repeat(70_000) } });
  const closed = await socket.closed;
  assert.equal(closed.code, 1009);
  await gateway.stop();
});

Deno.test("wrong token is refused with AUTH_TOKEN_MISMATCH and a 1008 close", async () => {
  const gateway = await startGateway();
  const { response, socket } = await connect(gateway, connectParams({ auth: { token: "nope" } }));
  assert.equal(response.ok, false);
  const error = response.error as { code: string; details: { code: string } };
  assert.equal(error.code, "INVALID_REQUEST");
  assert.equal(error.details.code, "AUTH_TOKEN_MISMATCH");
  assertMatchesSchema("ErrorShape", error);
  assert.equal((await socket.closed).code, 1008);
  await gateway.stop();
});

Deno.test("missing token is AUTH_TOKEN_MISSING", async () => {
  const gateway = await startGateway();
  const { response } = await connect(gateway, connectParams({ auth: {} }));
  assert.equal((response.error as { details: { code: string } }).details.code, "AUTH_TOKEN_MISSING");
  await gateway.stop();
});

Deno.test("password mode accepts the password and rejects the wrong one", async () => {
  const gateway = await startGateway({
    config: { gateway: { auth: { mode: "password", password: "pw-1" } } },
  });
  const ok = await connect(gateway, connectParams({ auth: { password: "pw-1" } }));
  assert.equal(ok.response.ok, true);
  const bad = await connect(gateway, connectParams({ auth: { password: "pw-2" } }));
  assert.equal((bad.response.error as { details: { code: string } }).details.code, "AUTH_PASSWORD_MISMATCH");
  await gateway.stop();
});

Deno.test("env OPENCLAW_GATEWAY_TOKEN is used when config has no token", async () => {
  const gateway = await startGateway({ config: {}, env: { OPENCLAW_GATEWAY_TOKEN: TOKEN } });
  const c = await client(gateway);
  assert.equal(c.hello.type, "hello-ok");
  await gateway.stop();
});

Deno.test("a protocol range without v4 gets a clear mismatch error", async () => {
  const gateway = await startGateway();
  const { response } = await connect(gateway, connectParams({ minProtocol: 2, maxProtocol: 3 }));
  const error = response.error as { message: string; details: { code: string } };
  assert.equal(error.details.code, "PROTOCOL_MISMATCH");
  assert.match(error.message, /gateway speaks v4/);
  await gateway.stop();
});

Deno.test("v3 nodes are still admitted", async () => {
  const gateway = await startGateway();
  const { response } = await connect(
    gateway,
    connectParams({
      minProtocol: 3,
      maxProtocol: 3,
      role: "node",
      client: { id: "n", mode: "node" },
      scopes: [],
    }),
  );
  assert.equal(response.ok, true);
  await gateway.stop();
});

Deno.test("ten failed attempts from one IP lock it out with AUTH_RATE_LIMITED", async () => {
  let clock = 1_000_000;
  const gateway = await startGateway({ now: () => clock });
  const remote = { remoteAddress: "203.0.113.9" };
  for (let i = 0; i < 10; i++) {
    const { response } = await connect(gateway, connectParams({ auth: { token: `bad-${i}` } }), remote);
    assert.equal((response.error as { details: { code: string } }).details.code, "AUTH_TOKEN_MISMATCH");
  }
  const locked = await connect(gateway, connectParams(), remote);
  const error = locked.response.error as { retryAfterMs: number; details: { code: string } };
  assert.equal(error.details.code, "AUTH_RATE_LIMITED");
  assert.ok(error.retryAfterMs > 290_000 && error.retryAfterMs <= 300_000);
  assertMatchesSchema("ErrorShape", locked.response.error);
  clock += 301_000;
  const after = await connect(gateway, connectParams(), remote);
  assert.equal(after.response.ok, true);
  await gateway.stop();
});

Deno.test("handshake timeout closes an idle socket", async () => {
  const gateway = await startGateway({ timing: { handshakeTimeoutMs: 50 } });
  const { openMemorySocket } = await import("../mod.ts");
  const socket = openMemorySocket(gateway);
  await socket.next();
  const closed = await socket.closed;
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /handshake timeout/);
  await gateway.stop();
});

Deno.test("unauthenticated socket cap answers 503", async () => {
  const gateway = await startGateway({ limits: { maxUnauthenticatedSockets: 2 } });
  const { openMemorySocket } = await import("../mod.ts");
  const a = openMemorySocket(gateway);
  const b = openMemorySocket(gateway);
  assert.throws(() => openMemorySocket(gateway), /HTTP 503/);
  a.close();
  const c = openMemorySocket(gateway);
  b.close();
  c.close();
  await gateway.stop();
});

Deno.test("gateway refuses to start in token mode without a token", async () => {
  const { createGateway } = await import("../mod.ts");
  const gateway = createGateway({ config: { gateway: { auth: { mode: "token" } } } });
  await assert.rejects(gateway.start(), /no token is configured/);
});
