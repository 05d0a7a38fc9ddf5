import assert from "node:assert/strict";
import { deviceProof, makeDevice, type TestDevice } from "./_device_identity.ts";
import { connect, connectParams, startGateway } from "./_helpers.ts";
import { assertMatchesSchema } from "./_protocol_schema.ts";
import { TOKEN } from "./_helpers.ts";

/** Builds connect params with a v3 device proof over the challenge, the way the reference client signs. */
async function signedParams(device: TestDevice, challenge: { nonce: string; ts: number }, token = TOKEN) {
  const scopes = ["operator.read", "operator.write"];
  const client = { id: "ui", version: "1", platform: "Linux", mode: "ui", deviceFamily: "Desktop" };
  return connectParams({
    client,
    scopes,
    auth: { token },
    device: await deviceProof(device, challenge, {
      client,
      role: "operator",
      scopes,
      token,
      platform: "linux",
      deviceFamily: "desktop",
    }),
  });
}

async function connectWithDevice(
  gateway: Awaited<ReturnType<typeof startGateway>>,
  device: TestDevice,
  remoteAddress = "127.0.0.1",
  mutate: (p: Record<string, unknown>) => void = () => {},
  token = TOKEN,
) {
  const { openMemorySocket } = await import("../mod.ts");
  const socket = openMemorySocket(gateway, { remoteAddress });
  const challenge = (await socket.next()).payload as { nonce: string; ts: number };
  const params = await signedParams(device, challenge, token);
  mutate(params);
  socket.send({ type: "req", id: "c", method: "connect", params });
  return { socket, response: await socket.waitFor((f) => f.id === "c") };
}

Deno.test("a direct loopback device auto-pairs and receives a device token", async () => {
  const gateway = await startGateway();
  const device = await makeDevice();
  const { response } = await connectWithDevice(gateway, device);
  assert.equal(response.ok, true, JSON.stringify(response.error));
  assertMatchesSchema("HelloOk", response.payload);
  const auth = (response.payload as { auth: { deviceToken?: string } }).auth;
  assert.ok(auth.deviceToken && auth.deviceToken.length >= 32);

  // The device token stands in for the shared secret on the next connect, with the device's proof.
  const again = await connectWithDevice(gateway, device, "127.0.0.1", undefined, auth.deviceToken);
  assert.equal(again.response.ok, true, JSON.stringify(again.response.error));
  assert.equal((again.response.payload as { auth: { method?: string } }).auth.method, "device-token");
  await gateway.stop();
});

Deno.test("an unknown remote device needs pairing", async () => {
  const gateway = await startGateway();
  const { response, socket } = await connectWithDevice(gateway, await makeDevice(), "198.51.100.7");
  const error = response.error as {
    code: string;
    details: { code: string; reason: string; requestId: string };
  };
  assert.equal(error.code, "NOT_PAIRED");
  assert.equal(error.details.code, "PAIRING_REQUIRED");
  assert.equal(error.details.reason, "not-paired");
  assertMatchesSchema("ErrorShape", response.error);
  assert.deepEqual(await socket.closed, {
    code: 1008,
    reason: `pairing required: device is not approved yet (requestId: ${error.details.requestId})`,
  });
  await gateway.stop();
});

Deno.test("forwarding headers void locality, so a proxied loopback device still needs pairing", async () => {
  const gateway = await startGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN }, trustedProxies: ["127.0.0.1"] } },
  });
  const { openMemorySocket } = await import("../mod.ts");
  const device = await makeDevice();
  const socket = openMemorySocket(gateway, { headers: { "x-forwarded-for": "203.0.113.1" } });
  const challenge = (await socket.next()).payload as { nonce: string; ts: number };
  socket.send({ type: "req", id: "c", method: "connect", params: await signedParams(device, challenge) });
  const res = await socket.waitFor((f) => f.id === "c");
  assert.equal((res.error as { details: { code: string } }).details.code, "PAIRING_REQUIRED");
  await gateway.stop();
});

Deno.test("tampered proofs are refused with the specific device error code", async () => {
  const gateway = await startGateway();
  const device = await makeDevice();
  const cases: [string, (p: Record<string, unknown>) => void][] = [
    ["DEVICE_AUTH_SIGNATURE_INVALID", (p) => ((p.scopes as string[]).push("operator.admin"))],
    ["DEVICE_AUTH_NONCE_MISMATCH", (p) => ((p.device as { nonce: string }).nonce = "other")],
    ["DEVICE_AUTH_NONCE_REQUIRED", (p) => delete (p.device as { nonce?: string }).nonce],
    ["DEVICE_AUTH_DEVICE_ID_MISMATCH", (p) => ((p.device as { id: string }).id = "ab".repeat(32))],
    ["DEVICE_AUTH_PUBLIC_KEY_INVALID", (p) => ((p.device as { publicKey: string }).publicKey = "AAAA")],
    ["DEVICE_AUTH_SIGNATURE_EXPIRED", (p) => ((p.device as { signedAt: number }).signedAt = 1)],
  ];
  for (const [code, mutate] of cases) {
    const { response } = await connectWithDevice(gateway, device, "127.0.0.1", mutate);
    assert.equal((response.error as { details: { code: string } }).details.code, code, code);
  }
  await gateway.stop();
});

Deno.test("trusted-proxy mode authenticates from the proxy's user header only when it comes from a trusted proxy", async () => {
  const gateway = await startGateway({
    config: {
      gateway: {
        auth: { mode: "trusted-proxy", trustedProxy: { userHeader: "x-auth-user", allowUsers: ["alice"] } },
        trustedProxies: ["10.0.0.5"],
      },
    },
  });
  const viaProxy = await connect(gateway, connectParams({ auth: {} }), {
    remoteAddress: "10.0.0.5",
    headers: { "x-auth-user": "alice", "x-forwarded-for": "203.0.113.7" },
  });
  assert.equal(viaProxy.response.ok, true);
  const wrongUser = await connect(gateway, connectParams({ auth: {} }), {
    remoteAddress: "10.0.0.5",
    headers: { "x-auth-user": "mallory", "x-forwarded-for": "203.0.113.7" },
  });
  assert.equal(wrongUser.response.ok, false);
  const direct = await connect(gateway, connectParams({ auth: {} }), {
    remoteAddress: "10.0.0.9",
    headers: { "x-auth-user": "alice" },
  });
  assert.match((direct.response.error as { message: string }).message, /trusted proxy/);
  await gateway.stop();
});
