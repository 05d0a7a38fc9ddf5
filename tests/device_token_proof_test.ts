// Review finding 4: a socket device token admits only the device it was issued to, proven by that device's
// key over the connection's nonce, as the reference binds it. Each refusal answers with the reference's
// code and recovery hint, and counts against the client's address like any wrong credential.
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { GatewayClient } from "@openclaw/gateway-client";
import { denoTransport } from "../deno.ts";
import { connectGateway, createGateway, type Gateway, GatewayClientError, openMemorySocket } from "../mod.ts";
import { connectDevice, makeDevice, type TestDevice, withDeviceProof } from "./_device_identity.ts";
import { connect, connectParams, startGateway, TOKEN } from "./_helpers.ts";

const LAN = "192.168.1.20";
const MAX_ATTEMPTS = 3;

/** A gateway whose LAN clients are locked out after `MAX_ATTEMPTS` wrong credentials. */
function gatewayWithLockout(): Promise<Gateway> {
  return startGateway({
    config: { gateway: { auth: { mode: "token", token: TOKEN, rateLimit: { maxAttempts: MAX_ATTEMPTS } } } },
  });
}

/** A device paired on loopback (auto-approved) and the operator token it was given. */
async function pairedOnLoopback(gateway: Gateway): Promise<{ device: TestDevice; token: string }> {
  const device = await makeDevice();
  const { socket, response } = await connectDevice(gateway, device);
  assert.equal(response.ok, true, JSON.stringify(response.error));
  socket.close();
  return { device, token: (response.payload as { auth: { deviceToken: string } }).auth.deviceToken };
}

/** Sends `connect` from the LAN with the params `build` makes from the challenge; the answer's error. */
async function refusal(
  gateway: Gateway,
  build: (challenge: { nonce: string; ts: number }) => Promise<Record<string, unknown>>,
): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const socket = openMemorySocket(gateway, { remoteAddress: LAN });
  const challenge = (await socket.next()).payload as { nonce: string; ts: number };
  socket.send({ type: "req", id: "c", method: "connect", params: await build(challenge) });
  const response = await socket.waitFor((f) => f.id === "c");
  assert.equal(response.ok, false, "refused");
  return response.error as { code: string; message: string; details: Record<string, unknown> };
}

/** Whether the LAN address is locked out now (a right shared token is refused). */
async function lockedOut(gateway: Gateway): Promise<boolean> {
  const { response } = await connect(gateway, connectParams(), { remoteAddress: LAN });
  return (response.error as { details?: { code?: string } } | undefined)?.details?.code ===
    "AUTH_RATE_LIMITED";
}

/** Refuses `build`'s connect `MAX_ATTEMPTS` times with `expected`, then finds the address locked out. */
async function refusedAndCounted(
  gateway: Gateway,
  build: (challenge: { nonce: string; ts: number }) => Promise<Record<string, unknown>>,
  expected: { code: string; message: string; details: Record<string, unknown> },
): Promise<void> {
  for (let i = 0; i < MAX_ATTEMPTS; i++) assert.deepEqual(await refusal(gateway, build), expected);
  assert.equal(await lockedOut(gateway), true, "each refusal counted against the address");
}

Deno.test("a device token without a device identity is a wrong shared token: refused and counted", async () => {
  const gateway = await gatewayWithLockout();
  const { token } = await pairedOnLoopback(gateway);
  await refusedAndCounted(gateway, () => Promise.resolve(connectParams({ auth: { token } })), {
    code: "INVALID_REQUEST",
    message: "unauthorized: gateway token mismatch (check the token configured for this client)",
    details: {
      code: "AUTH_TOKEN_MISMATCH",
      authReason: "token_mismatch",
      recommendedNextStep: "update_auth_credentials",
    },
  });
  await gateway.stop();
});

Deno.test("a device token presented by another device is refused, with the reference's retry hint, and counted", async () => {
  const gateway = await gatewayWithLockout();
  const { token } = await pairedOnLoopback(gateway);
  const other = await makeDevice();
  await refusedAndCounted(
    gateway,
    (challenge) => withDeviceProof(other, challenge, connectParams({ auth: { token } })),
    {
      code: "INVALID_REQUEST",
      message: "unauthorized: gateway token mismatch (check the token configured for this client)",
      details: {
        code: "AUTH_TOKEN_MISMATCH",
        authReason: "token_mismatch",
        canRetryWithDeviceToken: true,
        recommendedNextStep: "retry_with_device_token",
      },
    },
  );
  await gateway.stop();
});

Deno.test("a device token with its device's id but a signature that does not verify is refused and counted", async () => {
  const gateway = await gatewayWithLockout();
  const { device, token } = await pairedOnLoopback(gateway);
  const forger = await makeDevice();
  // The token's device named, its key shown, the signature made by another key.
  const forged = async (challenge: { nonce: string; ts: number }) => {
    const params = await withDeviceProof(device, challenge, connectParams({ auth: { token } }));
    const { signature } = (await withDeviceProof(forger, challenge, connectParams({ auth: { token } })))
      .device as { signature: string };
    return { ...params, device: { ...(params.device as Record<string, unknown>), signature } };
  };
  await refusedAndCounted(gateway, forged, {
    code: "INVALID_REQUEST",
    message: "device signature does not verify",
    details: { code: "DEVICE_AUTH_SIGNATURE_INVALID", reason: "device-signature" },
  });
  await gateway.stop();
});

Deno.test("an explicit auth.deviceToken admits its own device and refuses another's as a device token mismatch", async () => {
  const gateway = await gatewayWithLockout();
  const { device, token } = await pairedOnLoopback(gateway);
  const explicit = (challenge: { nonce: string; ts: number }, who: TestDevice) =>
    withDeviceProof(
      who,
      challenge,
      connectParams({ auth: { token: "stale-shared-token", deviceToken: token } }),
    );
  const socket = openMemorySocket(gateway, { remoteAddress: LAN });
  const challenge = (await socket.next()).payload as { nonce: string; ts: number };
  socket.send({ type: "req", id: "c", method: "connect", params: await explicit(challenge, device) });
  const hello = await socket.waitFor((f) => f.id === "c");
  assert.equal((hello.payload as { auth: { method: string } }).auth.method, "device-token");
  socket.close();
  const other = await makeDevice();
  await refusedAndCounted(gateway, (c) => explicit(c, other), {
    code: "INVALID_REQUEST",
    message: "unauthorized: device token mismatch (rotate or re-pair this device's token)",
    details: {
      code: "AUTH_DEVICE_TOKEN_MISMATCH",
      authReason: "device_token_mismatch",
      recommendedNextStep: "update_auth_credentials",
    },
  });
  await gateway.stop();
});

Deno.test("a device's operator token does not admit it as a node", async () => {
  const gateway = await gatewayWithLockout();
  const { device, token } = await pairedOnLoopback(gateway);
  const asNode = await refusal(
    gateway,
    (challenge) =>
      withDeviceProof(
        device,
        challenge,
        connectParams({
          role: "node",
          scopes: [],
          client: { id: "node-host", version: "1", platform: "linux", mode: "node" },
          auth: { token },
        }),
      ),
  );
  assert.equal(asNode.details.code, "AUTH_TOKEN_MISMATCH");
  await gateway.stop();
});

/** A Node-style device identity for the reference client: PEM keys, the id being the raw key's SHA-256. */
function nodeDeviceIdentity() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  return {
    identity: {
      deviceId: createHash("sha256").update(raw).digest("hex"),
      publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
      privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    },
    publicKeyRaw: raw.toString("base64url"),
    sign: (payload: string) => sign(null, Buffer.from(payload), privateKey).toString("base64url"),
  };
}

/** Runs the reference client until hello-ok (its `auth`) or its first connect error. */
async function referenceClient(
  url: string,
  device: ReturnType<typeof nodeDeviceIdentity>,
  stored: Map<string, { token: string; scopes: string[] }>,
  token: string | undefined,
): Promise<{ method?: string; deviceToken?: string; connectErrors: string[] }> {
  const hello = Promise.withResolvers<{ method?: string; deviceToken?: string }>();
  const connectErrors: string[] = [];
  const client = new GatewayClient(
    {
      url,
      token,
      minProtocol: 4,
      maxProtocol: 4,
      clientName: "gateway-client",
      mode: "backend",
      platform: "linux",
      scopes: ["operator.read"],
      deviceIdentity: device.identity,
      hostDeps: {
        signDevicePayload: (_pem: string, payload: string) => device.sign(payload),
        publicKeyRawBase64UrlFromPem: () => device.publicKeyRaw,
        loadDeviceAuthToken: ({ role }: { role: string }) => stored.get(role) ?? null,
        storeDeviceAuthToken: (entry: { role: string; token: string; scopes: string[] }) =>
          stored.set(entry.role, { token: entry.token, scopes: entry.scopes }),
        clearDeviceAuthToken: ({ role }: { role: string }) => stored.delete(role),
      },
      onHelloOk: (h: { auth?: { method?: string; deviceToken?: string } }) => hello.resolve(h.auth ?? {}),
      onConnectError: (e: { details?: { code?: string } }) => connectErrors.push(e.details?.code ?? "?"),
    } as unknown as ConstructorParameters<typeof GatewayClient>[0],
  );
  client.start();
  const timeout = setTimeout(
    () => hello.reject(new Error(`no hello-ok: ${connectErrors.join(", ")}`)),
    10_000,
  );
  try {
    return { ...await hello.promise, connectErrors };
  } finally {
    clearTimeout(timeout);
    await client.stopAndWait?.({ timeoutMs: 1000 }).catch(() => {});
    client.stop();
  }
}

Deno.test("the reference gateway-client reconnects with its stored device token, and retries with it after a token mismatch", async () => {
  const gateway = createGateway({
    transport: denoTransport(),
    port: 0,
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
  });
  const url = `ws://127.0.0.1:${(await gateway.start())!.port}`;
  const device = nodeDeviceIdentity();
  const stored = new Map<string, { token: string; scopes: string[] }>();
  const first = await referenceClient(url, device, stored, TOKEN);
  assert.ok(first.deviceToken, "paired on loopback, its token handed over");
  assert.equal(stored.get("operator")?.token, first.deviceToken);
  // No shared token: the client sends its stored token in auth.token (and auth.deviceToken), signed.
  const reconnect = await referenceClient(url, device, stored, undefined);
  assert.equal(reconnect.method, "device-token");
  assert.deepEqual(reconnect.connectErrors, []);
  // A stale shared token: refused once with AUTH_TOKEN_MISMATCH, then the retry with the stored token.
  const retried = await referenceClient(url, device, stored, "stale-shared-token");
  assert.deepEqual(retried.connectErrors, ["AUTH_TOKEN_MISMATCH"]);
  assert.equal(retried.method, "device-token");
  await gateway.stop();
});

Deno.test("our client proves its device: it pairs on loopback, then its device token alone signs it in", async () => {
  const gateway = createGateway({
    transport: denoTransport(),
    port: 0,
    config: { gateway: { auth: { mode: "token", token: TOKEN } } },
  });
  const url = `ws://127.0.0.1:${(await gateway.start())!.port}`;
  const device = await makeDevice();
  const client = {
    id: "acme-dashboard",
    mode: "ui",
    version: "1",
    platform: "Linux",
    deviceFamily: "Desktop",
  };
  const options = { url, WebSocket, client, device, scopes: ["operator.read"], timeoutMs: 5000 };
  const paired = await connectGateway({ ...options, token: TOKEN });
  const deviceToken = paired.hello.auth.deviceToken as string;
  assert.ok(deviceToken, "paired on loopback, its token handed over");
  paired.close();
  const again = await connectGateway({ ...options, deviceToken });
  assert.equal(again.hello.auth.method, "device-token");
  again.close();
  // Without the device the token is useless to the gateway, so the client says so before dialling.
  const { device: _, ...deviceless } = options;
  await assert.rejects(
    connectGateway({ ...deviceless, deviceToken }),
    (error) => error instanceof GatewayClientError && error.code === "DEVICE_IDENTITY_REQUIRED",
  );
  await gateway.stop();
});
