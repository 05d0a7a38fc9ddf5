// Device pairing beyond loopback auto-approval: a LAN device waits for an operator, who sees the request,
// approves or rejects it, and later rotates, revokes or removes what it holds.
import assert from "node:assert/strict";
import { join } from "node:path";
import WebSocket from "ws";
import type { Frame, Gateway } from "../mod.ts";
import {
  connectDevice,
  makeDevice,
  provenClient,
  signedConnectParams,
  type TestDevice,
} from "./_device_identity.ts";
import { freePort, runnerEnv, runRunner, spawnRunner, tempHome } from "./_runner_process.ts";
import { onMemoryAndRedis } from "./_redis_server.ts";
import { DEVICE_PAIRING_DOC, DocsDeviceStore } from "../lib/state/device-docs.ts";
import { MemoryJsonDocs } from "../lib/state/json-docs.ts";
import { client, connect, connectParams, startGateway, type TestClient } from "./_helpers.ts";
import { assertMatchesSchema, assertScopedMethods, schemaScope } from "./_protocol_schema.ts";

const LAN = "192.168.1.50";
const PAIRING_OPERATOR = ["operator.read", "operator.pairing", "operator.write"];
const ADMIN = ["operator.admin"];

async function operator(gateway: Gateway, scopes = PAIRING_OPERATOR): Promise<TestClient> {
  return await client(gateway, connectParams({ scopes }));
}

function ok(frame: Frame): Record<string, unknown> {
  assert.equal(frame.ok, true, JSON.stringify(frame.error));
  return frame.payload as Record<string, unknown>;
}

function event(frame: Frame, name: string, definition: string): Record<string, unknown> {
  assertMatchesSchema("EventFrame", frame);
  assert.equal(frame.event, name);
  assertMatchesSchema(definition, frame.payload);
  return frame.payload as Record<string, unknown>;
}

/** The next `name` event on `watcher`'s socket, including one already passed over while awaiting an answer. */
async function nextEvent(watcher: TestClient, name: string): Promise<Frame> {
  const i = watcher.socket.skipped.findIndex((f) => f.event === name);
  if (i >= 0) return watcher.socket.skipped.splice(i, 1)[0];
  return await watcher.socket.waitFor((f) => f.event === name);
}

/** A LAN device's first connect: refused, with the request an operator sees announced. */
async function requestPairing(gateway: Gateway, watcher: TestClient, options = {}) {
  const device = await makeDevice();
  const { response, socket } = await connectDevice(gateway, device, { remoteAddress: LAN, ...options });
  const error = response.error as { code: string; message: string; details: Record<string, unknown> };
  const requested = event(
    await nextEvent(watcher, "device.pair.requested"),
    "device.pair.requested",
    "DevicePairRequestedEvent",
  );
  await socket.closed;
  return { device, error, requested, requestId: String(error.details.requestId) };
}

Deno.test("the pairing methods carry the schema's scopes", async () => {
  const gateway = await startGateway();
  const watcher = await operator(gateway, ["operator.read"]);
  await assertScopedMethods(watcher, "operator.pairing", [
    "device.pair.list",
    "device.pair.approve",
    "device.pair.reject",
    "device.pair.remove",
    "device.token.rotate",
    "device.token.revoke",
  ]);
  const events = (watcher.hello.features as { events: string[] }).events;
  assert.ok(events.includes("device.pair.requested") && events.includes("device.pair.resolved"));
  await gateway.stop();
});

Deno.test("a LAN device is refused as the reference refuses it, and its request is recorded and announced", async () => {
  const gateway = await startGateway();
  const watcher = await operator(gateway);
  const { device, error, requested, requestId } = await requestPairing(gateway, watcher);
  assertMatchesSchema("ErrorShape", error);
  assert.equal(error.code, "NOT_PAIRED");
  assert.equal(error.message, "pairing required: device is not approved yet");
  assert.deepEqual(error.details, {
    code: "PAIRING_REQUIRED",
    reason: "not-paired",
    requestId,
    remediationHint: "Approve this device from the pending pairing requests.",
    deviceId: device.id,
    requestedRole: "operator",
    requestedScopes: ["operator.read", "operator.write"],
  });
  assert.equal(requested.requestId, requestId);
  assert.equal(requested.deviceId, device.id);
  assert.equal(requested.publicKey, device.publicKey);
  assert.equal(requested.remoteIp, LAN);
  assert.equal(requested.displayName, "Lab PC");
  assert.deepEqual([requested.roles, requested.silent, requested.isRepair], [["operator"], false, false]);

  // A retry with the same ask reuses the request; nobody is told twice.
  const retry = await connectDevice(gateway, device, { remoteAddress: LAN });
  assert.equal((retry.response.error as { details: { requestId: string } }).details.requestId, requestId);
  const list = ok(await watcher.request("device.pair.list"));
  assert.deepEqual((list.pending as { requestId: string }[]).map((r) => r.requestId), [requestId]);
  assert.deepEqual(list.paired, []);
  await gateway.stop();
});

Deno.test("approve: the device connects and gets its device token, which then stands in for the shared secret", async () => {
  const gateway = await startGateway();
  const watcher = await operator(gateway);
  const { device, requestId } = await requestPairing(gateway, watcher);
  const approved = ok(await watcher.request("device.pair.approve", { requestId }));
  assert.equal(approved.requestId, requestId);
  const record = approved.device as Record<string, unknown>;
  assert.equal(record.deviceId, device.id);
  assert.deepEqual(record.roles, ["operator"]);
  assert.equal(JSON.stringify(record).includes('"token"'), false, "bearer tokens are never listed");
  const resolved = event(
    await nextEvent(watcher, "device.pair.resolved"),
    "device.pair.resolved",
    "DevicePairResolvedEvent",
  );
  assert.deepEqual({ ...resolved, ts: 0 }, { requestId, deviceId: device.id, decision: "approved", ts: 0 });

  const { response } = await connectDevice(gateway, device, { remoteAddress: LAN });
  const hello = ok(response);
  assertMatchesSchema("HelloOk", hello);
  const { deviceToken, issuedAtMs } = hello.auth as { deviceToken: string; issuedAtMs: number };
  assert.ok(deviceToken.length >= 32);
  assert.equal(issuedAtMs, (approved.device as { tokens: { createdAtMs: number }[] }).tokens[0].createdAtMs);
  const withToken = await connectDevice(gateway, device, { remoteAddress: LAN, token: deviceToken });
  assert.equal((ok(withToken.response).auth as { method: string }).method, "device-token");
  // The token alone, without the device's proof, is nobody's.
  const bare = await connect(gateway, connectParams({ auth: { token: deviceToken } }), {
    remoteAddress: LAN,
  });
  assert.equal((bare.response.error as { details: { code: string } }).details.code, "AUTH_TOKEN_MISMATCH");

  const list = ok(await watcher.request("device.pair.list"));
  assert.deepEqual(list.pending, []);
  const [paired] = list.paired as { deviceId: string; connected: boolean; tokens: { role: string }[] }[];
  assert.equal(paired.deviceId, device.id);
  assert.equal(paired.connected, true, "the device's socket is still open");
  assert.deepEqual(paired.tokens.map((t) => t.role), ["operator"]);
  await gateway.stop();
});

Deno.test("a request is approved once: then it is denied to a pairing operator and unknown to an admin, as the reference answers", async () => {
  const gateway = await startGateway();
  const watcher = await operator(gateway);
  const { requestId } = await requestPairing(gateway, watcher);
  ok(await watcher.request("device.pair.approve", { requestId }));
  const again = await watcher.request("device.pair.approve", { requestId });
  assert.deepEqual(again.error, { code: "INVALID_REQUEST", message: "device pairing approval denied" });
  const admin = await operator(gateway, ADMIN);
  const unknown = await admin.request("device.pair.approve", { requestId });
  assert.deepEqual(unknown.error, { code: "INVALID_REQUEST", message: "unknown requestId" });
  await gateway.stop();
});

Deno.test("reject: the request is gone, announced as rejected, and the device still cannot connect", async () => {
  const gateway = await startGateway();
  const watcher = await operator(gateway);
  const { device, requestId } = await requestPairing(gateway, watcher);
  assert.deepEqual(ok(await watcher.request("device.pair.reject", { requestId })), {
    requestId,
    deviceId: device.id,
  });
  const resolved = event(
    await nextEvent(watcher, "device.pair.resolved"),
    "device.pair.resolved",
    "DevicePairResolvedEvent",
  );
  assert.equal(resolved.decision, "rejected");
  assert.deepEqual(ok(await watcher.request("device.pair.list")).pending, []);
  const retry = await connectDevice(gateway, device, { remoteAddress: LAN });
  const details = (retry.response.error as { details: { requestId: string } }).details;
  assert.notEqual(details.requestId, requestId, "a new attempt makes a new request");
  await gateway.stop();
});

/** A LAN device approved by `watcher`, connected, with its device token. */
async function pairedDevice(gateway: Gateway, watcher: TestClient) {
  const { device, requestId } = await requestPairing(gateway, watcher);
  ok(await watcher.request("device.pair.approve", { requestId }));
  const { socket, response } = await connectDevice(gateway, device, { remoteAddress: LAN });
  const token = (ok(response).auth as { deviceToken: string }).deviceToken;
  return { device, socket, token };
}

Deno.test("revoke: the device's live socket is closed and its token stops working", async () => {
  const gateway = await startGateway();
  const watcher = await operator(gateway);
  const { device, socket, token } = await pairedDevice(gateway, watcher);
  const revoked = ok(await watcher.request("device.token.revoke", { deviceId: device.id, role: "operator" }));
  assert.equal(revoked.deviceId, device.id);
  assert.equal(revoked.role, "operator");
  assert.equal(typeof revoked.revokedAtMs, "number");
  assert.deepEqual(await socket.closed, { code: 4001, reason: "device removed" });
  const refused = await connectDevice(gateway, device, { remoteAddress: LAN, token });
  assert.equal(refused.response.ok, false);
  const [paired] = ok(await watcher.request("device.pair.list")).paired as {
    tokens: { revokedAtMs?: number }[];
  }[];
  assert.equal(paired.tokens[0].revokedAtMs, revoked.revokedAtMs);
  // A revoked role is no longer approved: the device must ask again.
  const again = await connectDevice(gateway, device, { remoteAddress: LAN });
  assert.equal((again.response.error as { details: { reason: string } }).details.reason, "role-upgrade");
  await gateway.stop();
});

Deno.test("rotate: a new token replaces the old one, withheld from another device's caller", async () => {
  const gateway = await startGateway();
  const watcher = await operator(gateway);
  const { device, socket, token } = await pairedDevice(gateway, watcher);
  const rotated = ok(
    await watcher.request("device.token.rotate", {
      deviceId: device.id,
      role: "operator",
      scopes: ["operator.read"],
    }),
  );
  assertMatchesSchema("DeviceTokenRotateResult", rotated);
  assert.equal(rotated.tokenDelivery, "withheld-cross-device");
  assert.deepEqual(rotated.scopes, ["operator.read"]);
  assert.equal((await socket.closed).code, 4001);
  const old = await connectDevice(gateway, device, { remoteAddress: LAN, token, scopes: ["operator.read"] });
  assert.equal(old.response.ok, false, "the old token stopped working");

  // The device itself, reconnecting with its proof, gets the new token and may rotate its own in band.
  const { response } = await connectDevice(gateway, device, {
    remoteAddress: LAN,
    scopes: ["operator.read"],
  });
  const fresh = (ok(response).auth as { deviceToken: string }).deviceToken;
  assert.notEqual(fresh, token);
  const self = await provenClient(
    gateway,
    device,
    connectParams({ auth: { token: fresh }, scopes: ["operator.read"] }),
  );
  const denied = await self.request("device.token.rotate", { deviceId: device.id, role: "operator" });
  assert.equal(
    (denied.error as { details: { missingScope: string } }).details.missingScope,
    "operator.pairing",
  );
  await gateway.stop();
});

Deno.test("remove: the pairing is gone and the device's sockets are closed", async () => {
  const gateway = await startGateway();
  const watcher = await operator(gateway);
  const { device, socket, token } = await pairedDevice(gateway, watcher);
  assert.deepEqual(ok(await watcher.request("device.pair.remove", { deviceId: device.id })), {
    deviceId: device.id,
  });
  assert.deepEqual(await socket.closed, { code: 4001, reason: "device removed" });
  assert.deepEqual(ok(await watcher.request("device.pair.list")).paired, []);
  const refused = await connectDevice(gateway, device, { remoteAddress: LAN, token });
  assert.equal(refused.response.ok, false);
  const unknown = await watcher.request("device.pair.remove", { deviceId: device.id });
  assert.deepEqual(unknown.error, { code: "INVALID_REQUEST", message: "unknown deviceId" });
  await gateway.stop();
});

Deno.test("a paired device asking for more scopes waits for a scope upgrade, its approval shown", async () => {
  const gateway = await startGateway();
  const watcher = await operator(gateway);
  const { device } = await pairedDevice(gateway, watcher);
  const wider = await connectDevice(gateway, device, {
    remoteAddress: LAN,
    scopes: ["operator.read", "operator.write", "operator.admin"],
  });
  const details = (wider.response.error as { details: Record<string, unknown> }).details;
  assert.equal(details.reason, "scope-upgrade");
  assert.deepEqual(details.approvedRoles, ["operator"]);
  assert.deepEqual(details.approvedScopes, ["operator.read", "operator.write"]);
  const requested = event(
    await nextEvent(watcher, "device.pair.requested"),
    "device.pair.requested",
    "DevicePairRequestedEvent",
  );
  assert.equal(requested.isRepair, true);
  // Approving the operator's own scopes beyond its own is refused to a non-admin.
  const refused = await watcher.request("device.pair.approve", { requestId: details.requestId });
  assert.deepEqual(refused.error, { code: "INVALID_REQUEST", message: "missing scope: operator.admin" });
  const admin = await operator(gateway, ADMIN);
  ok(await admin.request("device.pair.approve", { requestId: details.requestId }));
  const upgraded = await connectDevice(gateway, device, {
    remoteAddress: LAN,
    scopes: ["operator.read", "operator.write", "operator.admin"],
  });
  assert.deepEqual((ok(upgraded.response).auth as { scopes: string[] }).scopes.sort(), [
    "operator.admin",
    "operator.read",
    "operator.write",
  ]);
  await gateway.stop();
});

Deno.test("nodes pair as devices: loopback auto-approves, a LAN node needs an admin's approval", async () => {
  const gateway = await startGateway();
  const local = await connectDevice(gateway, await makeDevice(), { role: "node" });
  assert.equal((ok(local.response).auth as { role: string }).role, "node");

  const watcher = await operator(gateway);
  const { device, requestId, requested } = await requestPairing(gateway, watcher, { role: "node" });
  assert.equal(requested.role, "node");
  const refused = await watcher.request("device.pair.approve", { requestId });
  assert.deepEqual(refused.error, { code: "INVALID_REQUEST", message: "device pairing approval denied" });
  const admin = await operator(gateway, ADMIN);
  ok(await admin.request("device.pair.approve", { requestId }));
  const { response } = await connectDevice(gateway, device, { role: "node", remoteAddress: LAN });
  const auth = ok(response).auth as { role: string; deviceToken: string };
  assert.equal(auth.role, "node");
  const byToken = await connectDevice(gateway, device, {
    role: "node",
    remoteAddress: LAN,
    token: auth.deviceToken,
  });
  assert.equal(ok(byToken.response).type, "hello-ok");
  // Token management of a node role needs admin.
  const rotate = await watcher.request("device.token.revoke", { deviceId: device.id, role: "node" });
  assert.deepEqual(rotate.error, { code: "INVALID_REQUEST", message: "device token revocation denied" });
  await gateway.stop();
});

Deno.test("a device caller without admin sees and manages only its own pairing", async () => {
  const gateway = await startGateway();
  const watcher = await operator(gateway);
  const other = await pairedDevice(gateway, watcher);
  const admin = await operator(gateway, ADMIN);
  // A second device, paired for pairing scope, managing through its own device token.
  const { device, requestId } = await requestPairing(gateway, watcher, { scopes: PAIRING_OPERATOR });
  ok(await admin.request("device.pair.approve", { requestId }));
  const { response } = await connectDevice(gateway, device, { remoteAddress: LAN, scopes: PAIRING_OPERATOR });
  const self = await provenClient(
    gateway,
    device,
    connectParams({
      auth: { token: (ok(response).auth as { deviceToken: string }).deviceToken },
      scopes: PAIRING_OPERATOR,
    }),
  );
  const list = ok(await self.request("device.pair.list"));
  assert.deepEqual((list.paired as { deviceId: string }[]).map((d) => d.deviceId), [device.id]);
  const cross = await self.request("device.pair.remove", { deviceId: other.device.id });
  assert.deepEqual(cross.error, { code: "INVALID_REQUEST", message: "device pairing removal denied" });
  const own = ok(await self.request("device.token.rotate", { deviceId: device.id, role: "operator" }));
  assert.equal(own.tokenDelivery, "in-band");
  assert.equal(typeof own.token, "string");
  await gateway.stop();
});

/** A real WebSocket to `port` that claims (through the trusted loopback proxy) to come from `lanIp`. */
function lanSocket(port: number, lanIp: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { headers: { "x-forwarded-for": lanIp } });
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  ws.on("message", (data) => {
    frames.push(JSON.parse(String(data)));
    waiters.splice(0).forEach((w) => w());
  });
  const next = async (predicate: (f: Frame) => boolean): Promise<Frame> => {
    for (;;) {
      const i = frames.findIndex(predicate);
      if (i >= 0) return frames.splice(i, 1)[0];
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { ws, next };
}

async function connectOverLan(port: number, device: TestDevice, token: string): Promise<Frame> {
  const { ws, next } = lanSocket(port, "192.168.1.77");
  const challenge = (await next((f) => f.event === "connect.challenge")).payload as {
    nonce: string;
    ts: number;
  };
  ws.send(JSON.stringify({
    type: "req",
    id: "c",
    method: "connect",
    params: await signedConnectParams(device, challenge, { token }),
  }));
  const response = await next((f) => f.id === "c");
  ws.close();
  return response;
}

Deno.test("openclaw devices list/approve work against a running runner gateway", async () => {
  await using dir = await tempHome();
  const port = freePort();
  const token = "runner-token-0123456789";
  await Deno.writeTextFile(
    join(dir.state, "openclaw.json"),
    JSON.stringify({
      gateway: { mode: "local", port, auth: { mode: "token", token }, trustedProxies: ["127.0.0.1"] },
    }),
  );
  const env = runnerEnv(dir.home);
  let proc = spawnRunner(["gateway"], env);
  try {
    await proc.waitFor(/gateway listening/, 30_000);
    const device = await makeDevice();
    const refused = await connectOverLan(port, device, token);
    const requestId = (refused.error as { details: { requestId: string } }).details.requestId;
    assert.equal((refused.error as { code: string }).code, "NOT_PAIRED");

    const listed = await runRunner(["devices", "list", "--json", "--token", token], env);
    assert.equal(listed.code, 0, listed.stderr);
    const list = JSON.parse(listed.stdout);
    assert.deepEqual(list.pending.map((r: { requestId: string }) => r.requestId), [requestId]);

    const table = await runRunner(["devices", "list", "--token", token], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Pending \(1\)\n┌─/);
    assert.match(table.stdout, new RegExp(`│ ${requestId.slice(0, 8)}`));
    assert.match(table.stdout, /│ Lab PC · {7}│/, "the device cell wraps at its column's width");
    assert.match(table.stdout, /│ 192\.168\.1\.77 {3}│/);
    assert.match(table.stdout, /new pairing/);

    const preview = await runRunner(["devices", "approve", "--token", token], env);
    assert.equal(preview.code, 1);
    assert.match(
      preview.stdout,
      new RegExp(`^Selected pending device request ${requestId}\n  Device: Lab PC\n`),
    );
    assert.match(preview.stdout, /Note: {3}First-time device pairing request\./);
    assert.equal(
      preview.stderr.trim(),
      `Approve this exact request with: openclaw devices approve ${requestId}`,
    );

    const approved = await runRunner(["devices", "approve", requestId, "--token", token], env);
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal(approved.stdout.trim(), `Approved ${device.id} (${requestId})`);

    const hello = await connectOverLan(port, device, token);
    assert.equal(hello.ok, true, JSON.stringify(hello.error));
    const deviceToken = (hello.payload as { auth: { deviceToken: string } }).auth.deviceToken;
    assert.ok(deviceToken);

    // The pairing is kept under the state dir: a restarted gateway still knows the device and its token.
    await proc.stop();
    proc = spawnRunner(["gateway"], env);
    await proc.waitFor(/gateway listening/, 30_000);
    const restarted = await connectOverLan(port, device, deviceToken);
    assert.equal((restarted.payload as { auth: { method: string } }).auth.method, "device-token");

    const paired = await runRunner(["devices", "list", "--token", token], env);
    assert.match(paired.stdout, /^Paired \(1\)\n┌─/);
    assert.match(paired.stdout, new RegExp(`Full device IDs\n  ${device.id}  Lab PC$`));
    const unknown = await runRunner(["devices", "approve", requestId, "--token", token], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, new RegExp(`No pending device request matches ${requestId}\\.`));

    const revoked = await runRunner(
      ["devices", "revoke", "--device", device.id, "--role", "operator", "--token", token],
      env,
    );
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.deepEqual(Object.keys(JSON.parse(revoked.stdout)), ["deviceId", "role", "revokedAtMs"]);
    const removed = await runRunner(["devices", "remove", device.id, "--token", token], env);
    assert.equal(removed.stdout.trim(), `Removed ${device.id}`);
    const empty = await runRunner(["devices", "list", "--token", token], env);
    assert.equal(empty.stdout.trim(), "No device pairing entries.");
  } finally {
    await proc.stop();
  }
});

Deno.test("node.pair: a node's declared commands wait for approval with the scopes they need", async () => {
  const gateway = await startGateway();
  for (const method of ["node.pair.list", "node.pair.approve", "node.pair.reject", "node.pair.remove"]) {
    assert.equal(schemaScope(method), "operator.pairing", method);
  }
  const watcher = await operator(gateway);
  const node = await makeDevice();
  const first = await connectDevice(gateway, node, { role: "node", commands: ["canvas.snapshot"] });
  ok(first.response);
  const requested = (await nextEvent(watcher, "node.pair.requested")).payload as Record<string, unknown>;
  assert.equal(requested.nodeId, node.id);
  assert.deepEqual(requested.commands, ["canvas.snapshot"]);
  assert.deepEqual(requested.requiredApproveScopes, ["operator.pairing", "operator.write"]);
  const listed = ok(await watcher.request("node.pair.list", {}));
  assert.deepEqual((listed.pending as { requestId: string }[]).map((r) => r.requestId), [
    requested.requestId,
  ]);
  assert.deepEqual(listed.paired, []);

  // The same surface again is the same request; a pairing-only operator cannot approve commands.
  await connectDevice(gateway, node, { role: "node", commands: ["canvas.snapshot"] });
  const pairingOnly = await operator(gateway, ["operator.pairing"]);
  const refused = await pairingOnly.request("node.pair.approve", { requestId: requested.requestId });
  assert.deepEqual(refused.error, {
    code: "FORBIDDEN",
    message: "missing scope: operator.write",
    details: {
      code: "MISSING_SCOPE",
      missingScope: "operator.write",
      requiredScopes: ["operator.pairing", "operator.write"],
    },
  });
  const approved = ok(await watcher.request("node.pair.approve", { requestId: requested.requestId }));
  assert.equal((approved.node as { nodeId: string }).nodeId, node.id);
  const resolved = (await nextEvent(watcher, "node.pair.resolved")).payload as Record<string, unknown>;
  assert.deepEqual({ ...resolved, ts: 0 }, {
    requestId: requested.requestId,
    nodeId: node.id,
    decision: "approved",
    ts: 0,
  });
  const after = ok(await watcher.request("node.pair.list", {}));
  assert.deepEqual(after.pending, []);
  assert.deepEqual((after.paired as { commands: string[] }[])[0].commands, ["canvas.snapshot"]);
  assert.equal(watcher.socket.skipped.some((f) => f.event === "node.pair.requested"), false, "asked once");

  // A wider surface is a new request; system.run needs an admin.
  await connectDevice(gateway, node, { role: "node", commands: ["canvas.snapshot", "system.run"] });
  const wider = (await nextEvent(watcher, "node.pair.requested")).payload as Record<string, unknown>;
  assert.deepEqual(wider.requiredApproveScopes, ["operator.pairing", "operator.admin"]);
  const needsAdmin = await watcher.request("node.pair.approve", { requestId: wider.requestId });
  assert.equal(
    (needsAdmin.error as { details: { missingScope: string } }).details.missingScope,
    "operator.admin",
  );
  assert.deepEqual(ok(await watcher.request("node.pair.reject", { requestId: wider.requestId })), {
    requestId: wider.requestId,
    nodeId: node.id,
  });
  assert.equal(
    ((await nextEvent(watcher, "node.pair.resolved")).payload as { decision: string }).decision,
    "rejected",
  );
  await gateway.stop();
});

Deno.test("node.pair.remove: a node-only device is gone and its node sockets closed", async () => {
  const gateway = await startGateway();
  const watcher = await operator(gateway);
  const node = await makeDevice();
  const { socket } = await connectDevice(gateway, node, { role: "node", commands: [] });
  const requested = (await nextEvent(watcher, "node.pair.requested")).payload as { requestId: string };
  ok(await watcher.request("node.pair.approve", { requestId: requested.requestId }));
  await nextEvent(watcher, "node.pair.resolved");
  assert.deepEqual(ok(await watcher.request("node.pair.remove", { nodeId: node.id })), { nodeId: node.id });
  assert.deepEqual(await socket.closed, { code: 4001, reason: "device removed" });
  const removed = (await nextEvent(watcher, "node.pair.resolved")).payload as Record<string, unknown>;
  assert.equal(removed.decision, "removed");
  assert.deepEqual(ok(await watcher.request("device.pair.list")).paired, []);
  const unknown = await watcher.request("node.pair.remove", { nodeId: node.id });
  assert.deepEqual(unknown.error, { code: "INVALID_REQUEST", message: "unknown nodeId" });
  await gateway.stop();
});

Deno.test("pairings kept in the state dir's document survive a restart", async () => {
  const docs = new MemoryJsonDocs();
  const first = await startGateway({ stores: { devices: new DocsDeviceStore(docs) } });
  const watcher = await operator(first);
  const { device, token } = await pairedDevice(first, watcher);
  await first.stop();
  assert.ok(await docs.read(DEVICE_PAIRING_DOC), "written through");

  const second = await startGateway({ stores: { devices: new DocsDeviceStore(docs) } });
  const again = await connectDevice(second, device, { remoteAddress: LAN, token });
  assert.equal((ok(again.response).auth as { method: string }).method, "device-token");
  await second.stop();
});

onMemoryAndRedis(
  {
    memory:
      "replicas share pairing: a request made on one is approved on the other, whose revoke closes the first's socket",
    redis: "replicas on one Redis share pairing: request, approval and revoke events cross the bus",
  },
  "pairing:",
  async (a, b) => {
    const one = await startGateway({ stores: a });
    const two = await startGateway({ stores: b });
    const watcher = await operator(two);
    const onOne = await operator(one);
    const { device, requestId } = await requestPairing(one, watcher);
    ok(await watcher.request("device.pair.approve", { requestId }));
    // Replica one answers from the pairings it kept until it reads the change's message on its subscriber
    // connection (docs/scale-out.md, "change feed"), which the reply to two does not wait for: its own
    // `device.pair.resolved` comes after that message on the same connection.
    await nextEvent(onOne, "device.pair.resolved");
    const { socket, response } = await connectDevice(one, device, { remoteAddress: LAN });
    ok(response);
    ok(await watcher.request("device.token.revoke", { deviceId: device.id, role: "operator" }));
    assert.deepEqual(await socket.closed, { code: 4001, reason: "device removed" });
    await two.stop();
    await one.stop();
  },
);
